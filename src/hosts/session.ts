import { loadConfig, type FerryConfig } from '../config.ts';
import { findHost, type HostsFile } from './inventory.ts';
import { loadHosts } from './load-hosts.ts';
import { RemoteHost } from './RemoteHost.ts';

/** Opens SSH sessions to named hosts for the duration of fn, and always closes them. */
export async function withHosts<T>(
  names: string[] | 'all',
  fn: (hosts: RemoteHost[], file: HostsFile, config: FerryConfig) => Promise<T>,
  config: FerryConfig = loadConfig(),
): Promise<T> {
  const file = await loadHosts(config);
  const specs = names === 'all' ? file.hosts : names.map((n) => findHost(file, n));
  const hosts = specs.map((s) => new RemoteHost(s, { defaultTimeoutS: config.commandTimeoutS }));
  try {
    return await fn(hosts, file, config);
  } finally {
    for (const h of hosts) h.dispose();
  }
}
