import { loadHosts } from '../../app/hosts.ts';
import { loadConfig } from '../../config.ts';
import { describePki, ensureHostsPki } from '../../infra/pki.ts';
import { parseFlags, type Command } from '../command.ts';

export const pkiCommand: Command = {
  name: 'pki',
  synopsis: 'ferry pki [--rotate] [--json]',
  summary: "make the environment's CA and the hosts' certificates for CRIU's TLS (ferry provision installs them)",
  details: [
    "Idempotent: a certificate is issued only when missing, close to expiry, or when the host's addresses changed.",
    'The CA key stays in FERRY_PKI_DIR (default $FERRY_LAB_DIR/pki) on this machine.',
    '--rotate   a new CA: every host certificate is issued anew (run ferry provision afterwards)',
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, { rotate: { type: 'boolean' }, json: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const r = await ensureHostsPki(config.pkiDir, await loadHosts(config), { rotate: Boolean(values.rotate) });
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else for (const l of describePki(r)) io.out(l);
    return 0;
  },
};
