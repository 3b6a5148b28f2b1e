import { listContainers } from '../../hosts/containers.ts';
import { probeHost } from '../../hosts/probe.ts';
import { withHosts } from '../../hosts/session.ts';
import { formatBytes, renderTable } from '../../util/table.ts';
import { parseFlags, type Output } from '../main.ts';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export async function hostsCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, { json: { type: 'boolean' } });
  return withHosts('all', async (hosts) => {
    const caps = await Promise.all(hosts.map((h) => probeHost(h)));
    if (values.json) {
      io.out(JSON.stringify(caps.map((c, i) => ({ ...c, address: hosts[i]!.spec.address })), null, 2));
    } else {
      io.out(
        renderTable(
          ['host', 'address', 'kernel', 'criu', 'runc', 'soft-dirty', 'userfaultfd'],
          caps.map((c, i) => [c.host, hosts[i]!.spec.address, c.kernel, c.criuVersion ?? 'missing', c.runcVersion ?? 'missing', yesNo(c.softDirty), yesNo(c.uffd)]),
        ),
      );
    }
    return 0;
  });
}

export async function psCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, { json: { type: 'boolean' } });
  return withHosts('all', async (hosts) => {
    const all = (await Promise.all(hosts.map((h) => listContainers(h)))).flat();
    if (values.json) io.out(JSON.stringify(all, null, 2));
    else io.out(renderTable(['host', 'container', 'status', 'pid', 'memory'], all.map((c) => [c.host, c.name, c.status, c.pid, formatBytes(c.memoryBytes)])));
    return 0;
  });
}
