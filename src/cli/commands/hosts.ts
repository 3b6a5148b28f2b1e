import { loadConfig } from '../../config.ts';
import { loadHosts } from '../../app/hosts.ts';
import { listContainers } from '../../hosts/containers.ts';
import { probeHost } from '../../hosts/probe.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import type { HostSpec, HostsFile } from '../../hosts/inventory.ts';
import { formatBytes, renderTable } from '../../util/table.ts';
import { parseFlags, type Command } from '../command.ts';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
/** A host's site; one-site environments name it after themselves. */
const cloudOf = (h: HostSpec) => h.cloud ?? h.environment;

async function eachHost<T>(file: HostsFile, timeoutS: number, fn: (h: RemoteHost) => Promise<T>): Promise<T[]> {
  return Promise.all(
    file.hosts.map(async (spec) => {
      const h = new RemoteHost(spec, { defaultTimeoutS: timeoutS });
      try {
        return await fn(h);
      } finally {
        h.dispose();
      }
    }),
  );
}

export const hostsCommand: Command = {
  name: 'hosts',
  synopsis: 'ferry hosts [--json]',
  summary: 'the inventory\'s hosts with their cloud, kernel, CRIU, runc, soft-dirty and userfaultfd (probed over SSH)',
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const file = await loadHosts(config);
    const caps = await eachHost(file, 60, (h) => probeHost(h));
    if (values.json) {
      io.out(JSON.stringify(caps.map((c, i) => ({ ...c, address: file.hosts[i]!.address, environment: file.hosts[i]!.environment, cloud: cloudOf(file.hosts[i]!) })), null, 2));
    } else {
      io.out(
        renderTable(
          ['host', 'environment', 'cloud', 'address', 'kernel', 'criu', 'runc', 'soft-dirty', 'userfaultfd'],
          caps.map((c, i) => [c.host, file.hosts[i]!.environment, cloudOf(file.hosts[i]!), file.hosts[i]!.address, c.kernel, c.criuVersion ?? 'missing', c.runcVersion ?? 'missing', yesNo(c.softDirty), yesNo(c.uffd)]),
        ),
      );
    }
    return 0;
  },
};

export const psCommand: Command = {
  name: 'ps',
  synopsis: 'ferry ps [--json]',
  summary: 'containers on every host, with their memory',
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const all = (await eachHost(await loadHosts(config), 60, (h) => listContainers(h))).flat();
    if (values.json) io.out(JSON.stringify(all, null, 2));
    else io.out(renderTable(['host', 'container', 'status', 'pid', 'memory'], all.map((c) => [c.host, c.name, c.status, c.pid, formatBytes(c.memoryBytes)])));
    return 0;
  },
};
