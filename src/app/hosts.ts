import type { FerryConfig } from '../config.ts';
import { loadHostsFile, type HostsFile } from '../hosts/inventory.ts';

/** The hosts Ferry drives, wherever the configuration says they are described. */
export function loadHosts(config: FerryConfig): Promise<HostsFile> {
  return loadHostsFile(config.hostsFile);
}
