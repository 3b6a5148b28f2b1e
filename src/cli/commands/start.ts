import { loadConfig } from '../../config.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { Lab } from '../../infra/lab.ts';
import { listContainers } from '../../hosts/containers.ts';
import { withHosts } from '../../hosts/session.ts';
import type { Output } from '../main.ts';

export const DEMO_CONTAINER = 'web1';

/**
 * The embedded default: a local two-host lab, provisioned, with the web workload running.
 * Returns where web1 runs now.
 */
export async function ensureDemo(io: Output): Promise<{ host: string; hosts: string[] }> {
  const config = loadConfig();
  const file = await new Lab(config, (m) => io.err(m)).up(2);
  io.err('provisioning the lab hosts (ansible)');
  await runPlaybook('provision.yml', file.inventoryFile);
  const names = file.hosts.map((h) => h.name);
  const where = await withHosts('all', async (hosts) => {
    for (const h of hosts) if ((await listContainers(h)).some((c) => c.name === DEMO_CONTAINER && c.status === 'running')) return h.name;
    return null;
  });
  if (where) return { host: where, hosts: names };
  io.err(`deploying the web workload ${DEMO_CONTAINER} (256 MiB) on ${names[0]}`);
  await runPlaybook('workload.yml', file.inventoryFile, { limit: names[0], extraVars: { workload: 'web', name: DEMO_CONTAINER, ballast_mib: 256, port: 8080, replace: true } });
  return { host: names[0]!, hosts: names };
}
