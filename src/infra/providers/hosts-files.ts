import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostSpec, HostsFile } from '../../hosts/inventory.ts';
import type { ModuleOutputs } from '../contract.ts';
import { renderInventory, renderKnownHosts } from '../inventory.ts';

/**
 * A module's outputs (held to terraform/CONTRACT.md) as the files every command reads: `hostsFile`,
 * and `known_hosts` and `inventory.ini` in `dir`. The lab and cloud environments alike.
 */
export async function writeHostsFiles(out: ModuleOutputs, opts: { keyFile: string; dir: string; hostsFile: string }): Promise<HostsFile> {
  const hosts: HostSpec[] = [];
  for (const h of out.hosts) {
    hosts.push({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      privateKeyFile: opts.keyFile,
      hostKey: (await readFile(h.hostKeyFile, 'utf8')).trim(),
      environment: out.environment,
      cloud: h.cloud,
      peerAddress: h.peerAddress,
      ...(h.controllerAddress ? { controllerAddress: h.controllerAddress } : {}),
    });
  }
  const knownHostsFile = path.join(opts.dir, 'known_hosts');
  const inventoryFile = path.join(opts.dir, 'inventory.ini');
  const file: HostsFile = { environment: out.environment, controllerAddress: out.controllerAddress ?? undefined, knownHostsFile, inventoryFile, hosts };
  await writeFile(knownHostsFile, renderKnownHosts(hosts));
  await writeFile(inventoryFile, renderInventory(hosts, knownHostsFile));
  await writeFile(opts.hostsFile, JSON.stringify(file, null, 2));
  return file;
}
