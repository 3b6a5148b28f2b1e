import { loadHosts } from '../../app/hosts.ts';
import { loadConfig } from '../../config.ts';
import { ensurePki, type PkiReport } from '../../infra/pki.ts';
import { pkiHostOf } from '../../infra/pki-names.ts';
import type { HostsFile } from '../../hosts/inventory.ts';
import { parseFlags, type Command } from '../command.ts';

/** Makes (or renews) the environment's CA and one certificate per usable host; provision installs them. */
export async function ensureHostsPki(config: { pkiDir: string }, file: HostsFile, opts: { rotate?: boolean } = {}): Promise<PkiReport> {
  const hosts = file.hosts.filter((h) => !h.unusable).map(pkiHostOf);
  return ensurePki(config.pkiDir, hosts, { environment: file.environment, rotate: opts.rotate });
}

export function describePki(r: PkiReport): string[] {
  return [
    `CA in ${r.dir}: ${r.caCreated ? 'created' : 'kept'}`,
    ...r.issued.map((i) => `${i.host}: certificate issued (${i.why})`),
    ...r.kept.map((h) => `${h}: certificate kept`),
  ];
}

export const pkiCommand: Command = {
  name: 'pki',
  synopsis: 'ferry pki [--rotate] [--json]',
  summary: "make the environment's CA and the hosts' certificates for CRIU's TLS (ferry provision installs them)",
  details: [
    'Idempotent: a certificate is issued only when missing, close to expiry, or when the host\'s addresses changed.',
    'The CA key stays in FERRY_PKI_DIR (default $FERRY_LAB_DIR/pki) on this machine.',
    '--rotate   a new CA: every host certificate is issued anew (run ferry provision afterwards)',
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, { rotate: { type: 'boolean' }, json: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const r = await ensureHostsPki(config, await loadHosts(config), { rotate: Boolean(values.rotate) });
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else for (const l of describePki(r)) io.out(l);
    return 0;
  },
};
