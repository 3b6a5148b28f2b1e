import type { FerryConfig } from '../config.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { loadHosts as load } from '../hosts/load-hosts.ts';

/** The hosts Ferry drives: an Ansible inventory (FERRY_INVENTORY) or the hosts file `ferry lab up` renders. */
export function loadHosts(config: FerryConfig): Promise<HostsFile> {
  return load(config);
}
