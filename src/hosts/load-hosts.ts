import type { FerryConfig } from '../config.ts';
import { loadAnsibleInventory } from './ansible-inventory.ts';
import { loadHostsFile, type HostsFile } from './inventory.ts';

/** Ferry's hosts: from the Ansible inventory when FERRY_INVENTORY (or --inventory) names one, else from the lab's hosts.json. */
export function loadHosts(config: Pick<FerryConfig, 'inventory' | 'vaultPasswordFile' | 'hostsFile'>): Promise<HostsFile> {
  return config.inventory ? loadAnsibleInventory(config.inventory, { vaultPasswordFile: config.vaultPasswordFile }) : loadHostsFile(config.hostsFile);
}
