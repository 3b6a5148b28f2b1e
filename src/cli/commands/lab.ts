import { loadConfig } from '../../config.ts';
import { LAB_PROVIDERS, Lab, TOPOLOGIES, parseProvider, parseTopology, type LabState } from '../../infra/lab.ts';
import { describeProfile, parseLinkProfile } from '../../infra/link/profile.ts';
import type { EnvironmentStatus } from '../../infra/providers/provider.ts';
import { renderTable } from '../../util/table.ts';
import { numberFlag, parseFlags, usageError, type Command } from '../command.ts';
import { runSteps } from '../steps.ts';

const SYNOPSIS = `ferry lab up [--hosts N] [--provider ${LAB_PROVIDERS.join('|')}] [--topology ${TOPOLOGIES.join('|')}] [--link lan|wan|RTT-MS,MBIT[,LOSS-%]] [--verbose] [--json] | ferry lab down [--verbose] [--json] | ferry lab status [--json]`;

/** `lab status` as text (pure): hosts with their clouds, then a two-cloud lab's gateways and WAN. */
export function renderLabStatus(st: EnvironmentStatus): string {
  const lines = [renderTable(['host', 'cloud', 'address', 'state', 'ssh'], st.hosts.map((s) => [s.name, s.cloud ?? '-', s.address, s.whole ? 'up' : `broken: ${s.problem}`, s.ssh ? 'ok' : 'no']))];
  if (st.wan) {
    lines.push(
      '',
      renderTable(
        ['gateway', 'namespace', 'lan address', 'wan address', 'wireguard', 'handshake', 'state'],
        st.wan.gateways.map((g) => [g.cloud, g.namespace, g.lanAddress, g.publicAddress, g.wg, g.handshakeAgeS === null ? 'none yet' : `${g.handshakeAgeS} s ago`, g.whole ? 'up' : `broken: ${g.problem}`]),
      ),
      `relay: ${st.wan.relay.whole ? 'up' : `broken: ${st.wan.relay.problem}`}`,
      `link: ${st.wan.emulation}`,
    );
  }
  return lines.join('\n');
}

/** `lab down --json` (pure): the lab that was up (null when none was: the sweep ran anyway) and the log file. */
export function labDownResult(before: LabState | undefined, logFile: string): { removed: { provider: string; topology: string; hosts: string[] } | null; log: string } {
  return { removed: before ? { provider: before.provider, topology: before.topology, hosts: before.hosts } : null, log: logFile };
}

/** Whether everything `lab status` lists is whole and reachable. */
export function labHealthy(st: EnvironmentStatus): boolean {
  const hosts = st.hosts.length > 0 && st.hosts.every((s) => s.whole && s.ssh);
  return hosts && (!st.wan || (st.wan.relay.whole && st.wan.gateways.every((g) => g.whole)));
}

export const labCommand: Command = {
  name: 'lab',
  synopsis: SYNOPSIS,
  readsInventory: false,
  summary: 'create, check or remove the lab (default: 2 namespace hosts lab-1, lab-2; qemu: VMs with a stock kernel; two clouds joined by WireGuard)',
  details: [
    'up       create the lab, or repair it (a host whose sshd died is healed in place, its containers keep running)',
    'down     remove it: namespaces or VMs, processes, mounts, cgroups, the bridges, a two-cloud lab\'s gateways and WAN',
    'status   each host (with its cloud) and whether it is whole, a two-cloud lab\'s gateways and link (exit 1 when something is not)',
    '--hosts N              hosts to create (1-50, default 2; for two clouds in all, cloud-a taking the odd one)',
    '--provider local       network namespaces on this kernel (fast; no soft-dirty tracking, so no pre-copy)',
    '--provider qemu        VMs under software emulation with a stock Debian kernel (every method runs)',
    '--topology flat        one bridge, hosts lab-1 … lab-N (the default for a new lab)',
    '--topology two-clouds  two bridges and /24s, hosts a-1, a-2 … in cloud-a and b-1 … in cloud-b, which reach each other',
    '                       only through WireGuard between a gateway per cloud, over a shaped WAN',
    '--link P               the WAN between the clouds: lan (unshaped), wan (30 ms round trip, 200 Mbit/s; the default),',
    '                       or RTT-MS,MBIT[,LOSS-%]; HTB for the rate, a UDP relay for the delay and loss',
    'Without --topology (or --link) an existing lab keeps its own; status, plan and down need no flags.',
    `--verbose              show Terraform's own output too (it is always in ${'$'}FERRY_LAB_DIR/logs/, named on failure)`,
    '--json                 the hosts (up), what was removed (down) or the lab\'s state (status) as JSON on stdout',
  ].join('\n'),
  async run(args, io) {
    const { positionals, values } = parseFlags(
      args,
      { hosts: { type: 'string' }, provider: { type: 'string', default: 'local' }, topology: { type: 'string' }, link: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } },
      SYNOPSIS,
    );
    const config = loadConfig();
    const lab = new Lab(config, (m) => io.err(m));
    const steps = (command: string) => ({ command, verbose: values.verbose, logDir: config.labDir, plain: values.json });
    switch (positionals[0]) {
      case 'up': {
        const n = numberFlag('hosts', values.hosts, { min: 1, max: 50, integer: true }) ?? 2;
        const provider = parseProvider(values.provider!);
        const topology = values.topology === undefined ? undefined : parseTopology(values.topology);
        const link = values.link === undefined ? undefined : parseLinkProfile(values.link);
        const { value: file } = await runSteps(io, steps('lab-up'), (say) => new Lab(config, say).up(n, provider, { topology, link }));
        if (values.json) io.out(JSON.stringify(file, null, 2));
        else {
          io.out(renderTable(['host', 'cloud', 'address', 'ssh'], file.hosts.map((h) => [h.name, h.cloud ?? h.environment, h.address, `${h.user}@${h.address}:${h.port}`])));
          const state = await lab.current();
          if (state?.link) io.out(`two clouds joined by WireGuard over ${describeProfile(state.link)}`);
          io.out(`inventory: ${file.inventoryFile}`);
        }
        return 0;
      }
      case 'down': {
        const before = values.json ? await lab.current() : undefined;
        const { logFile } = await runSteps(io, steps('lab-down'), (say) => new Lab(config, say).down());
        if (values.json) io.out(JSON.stringify(labDownResult(before, logFile), null, 2));
        return 0;
      }
      case 'status': {
        const st = await lab.status();
        if (values.json) io.out(JSON.stringify(st ?? { topology: null, hosts: [] }, null, 2));
        else io.out(st ? renderLabStatus(st) : 'lab is down');
        return st && labHealthy(st) ? 0 : 1;
      }
      default:
        throw usageError(SYNOPSIS, positionals[0] ? `unknown lab command '${positionals[0]}'` : 'which lab command?');
    }
  },
};
