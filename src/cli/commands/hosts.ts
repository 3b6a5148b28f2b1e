import { loadConfig } from '../../config.ts';
import { loadHosts } from '../../app/hosts.ts';
import { listContainers } from '../../hosts/containers.ts';
import { probeHost } from '../../hosts/probe.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import { groupsText, type HostSpec, type HostsFile } from '../../hosts/inventory.ts';
import type { HostCapabilities } from '../../hosts/probe.ts';
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

/** `ferry hosts --json` (pure): each host's probed capabilities with its address, environment, cloud and Ansible groups (`[]` for none). */
export function hostsJson(file: HostsFile, caps: readonly HostCapabilities[]): string {
  return JSON.stringify(
    caps.map((c, i) => {
      const h = file.hosts[i]!;
      return { ...c, address: h.address, environment: h.environment, cloud: cloudOf(h), groups: h.groups ?? [] };
    }),
    null,
    2,
  );
}

/** `ferry hosts` as a table (pure): one row per host, its groups comma-separated. */
export function hostsText(file: HostsFile, caps: readonly HostCapabilities[]): string {
  return renderTable(
    ['host', 'environment', 'cloud', 'groups', 'address', 'kernel', 'criu', 'runc', 'soft-dirty', 'userfaultfd'],
    caps.map((c, i) => {
      const h = file.hosts[i]!;
      return [c.host, h.environment, cloudOf(h), groupsText(h.groups), h.address, c.kernel, c.criuVersion ?? 'missing', c.runcVersion ?? 'missing', yesNo(c.softDirty), yesNo(c.uffd)];
    }),
  );
}

export const hostsCommand: Command = {
  name: 'hosts',
  synopsis: 'ferry hosts [--json]',
  summary: 'the inventory\'s hosts with their cloud and groups, and kernel, CRIU, runc, soft-dirty and userfaultfd (probed over SSH)',
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const file = await loadHosts(config);
    const caps = await eachHost(file, 60, (h) => probeHost(h));
    io.out(values.json ? hostsJson(file, caps) : hostsText(file, caps));
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
