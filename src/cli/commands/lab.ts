import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { Lab, parseProvider } from '../../infra/lab.ts';
import { renderTable } from '../../util/table.ts';
import { parseFlags, type Output } from '../main.ts';

export async function labCommand(args: string[], io: Output): Promise<number> {
  const { positionals, values } = parseFlags(args, { hosts: { type: 'string' }, provider: { type: 'string', default: 'local' }, json: { type: 'boolean' } });
  const lab = new Lab(loadConfig(), (m) => io.err(m));
  switch (positionals[0]) {
    case 'up': {
      const n = values.hosts === undefined ? 2 : Number(values.hosts);
      const file = await lab.up(n, parseProvider(values.provider!));
      io.out(renderTable(['host', 'address', 'ssh'], file.hosts.map((h) => [h.name, h.address, `${h.user}@${h.address}:${h.port}`])));
      io.out(`inventory: ${file.inventoryFile}`);
      return 0;
    }
    case 'down':
      await lab.down();
      return 0;
    case 'status': {
      const st = await lab.status();
      if (values.json) {
        io.out(JSON.stringify(st, null, 2));
      } else if (st.length === 0) {
        io.out('lab is down');
      } else {
        io.out(renderTable(['host', 'address', 'state', 'ssh'], st.map((s) => [s.name, s.address, s.whole ? 'up' : `broken: ${s.problem}`, s.ssh ? 'ok' : 'no'])));
      }
      return st.length > 0 && st.every((s) => s.whole && s.ssh) ? 0 : 1;
    }
    default:
      throw new FerryError(ErrorCode.UsageError, `usage: ferry lab up [--hosts N] [--provider local|qemu] | down | status (got '${positionals[0] ?? ''}')`);
  }
}
