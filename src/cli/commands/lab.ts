import { loadConfig } from '../../config.ts';
import { LAB_PROVIDERS, Lab, parseProvider } from '../../infra/lab.ts';
import { renderTable } from '../../util/table.ts';
import { numberFlag, parseFlags, usageError, type Command } from '../command.ts';
import { runSteps } from '../steps.ts';

const SYNOPSIS = `ferry lab up [--hosts N] [--provider ${LAB_PROVIDERS.join('|')}] [--verbose] [--json] | ferry lab down [--verbose] | ferry lab status [--json]`;

export const labCommand: Command = {
  name: 'lab',
  synopsis: SYNOPSIS,
  summary: 'create, check or remove the lab (default: 2 namespace hosts lab-1, lab-2; qemu: VMs with a stock kernel)',
  details: [
    'up       create the lab, or repair it (a host whose sshd died is healed in place, its containers keep running)',
    'down     remove it: namespaces or VMs, processes, mounts, cgroups, the bridge',
    'status   each host and whether it is whole (exit 1 when one is not)',
    '--hosts N            hosts to create (1-50, default 2)',
    '--provider local     network namespaces on this kernel (fast; no soft-dirty tracking, so no pre-copy)',
    '--provider qemu      VMs under software emulation with a stock Debian kernel (every method runs)',
    `--verbose            show Terraform's own output too (it is always in ${'$'}FERRY_LAB_DIR/logs/, named on failure)`,
    '--json               the hosts (up) or their state (status) as JSON on stdout',
  ].join('\n'),
  async run(args, io) {
    const { positionals, values } = parseFlags(args, { hosts: { type: 'string' }, provider: { type: 'string', default: 'local' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, SYNOPSIS);
    const config = loadConfig();
    const steps = (command: string) => ({ command, verbose: values.verbose, logDir: config.labDir, plain: values.json });
    switch (positionals[0]) {
      case 'up': {
        const n = numberFlag('hosts', values.hosts, { min: 1, max: 50, integer: true }) ?? 2;
        const provider = parseProvider(values.provider!);
        const { value: file } = await runSteps(io, steps('lab-up'), (say) => new Lab(config, say).up(n, provider));
        if (values.json) io.out(JSON.stringify(file, null, 2));
        else {
          io.out(renderTable(['host', 'address', 'ssh'], file.hosts.map((h) => [h.name, h.address, `${h.user}@${h.address}:${h.port}`])));
          io.out(`inventory: ${file.inventoryFile}`);
        }
        return 0;
      }
      case 'down':
        await runSteps(io, steps('lab-down'), (say) => new Lab(config, say).down());
        return 0;
      case 'status': {
        const st = await new Lab(config).status();
        if (values.json) io.out(JSON.stringify(st, null, 2));
        else if (st.length === 0) io.out('lab is down');
        else io.out(renderTable(['host', 'address', 'state', 'ssh'], st.map((s) => [s.name, s.address, s.whole ? 'up' : `broken: ${s.problem}`, s.ssh ? 'ok' : 'no'])));
        return st.length > 0 && st.every((s) => s.whole && s.ssh) ? 0 : 1;
      }
      default:
        throw usageError(SYNOPSIS, positionals[0] ? `unknown lab command '${positionals[0]}'` : 'which lab command?');
    }
  },
};
