import type { FerryConfig } from '../config.ts';
import { listContainers } from '../hosts/containers.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { runPlaybook } from '../infra/ansible.ts';
import { Lab } from '../infra/lab.ts';
import { ensureHostsPki } from '../infra/pki.ts';
import type { Say } from '../infra/providers/provider.ts';

export const DEMO_CONTAINER = 'web1';

/** The lab, up and provisioned: what `start`, the benchmark and the tests stand on. */
export async function ensureLab(config: FerryConfig, say: Say, opts: { hosts?: number; provider?: string } = {}): Promise<HostsFile> {
  const file = await new Lab(config, say).up(opts.hosts ?? 2, opts.provider ?? 'local');
  // The environment's CA and each host's certificate (CRIU's TLS): provision.yml installs them.
  await ensureHostsPki(config.pkiDir, file);
  say('provisioning the lab hosts (ansible)');
  await runPlaybook('provision.yml', file.inventoryFile);
  return file;
}

/**
 * Deploys one of Ferry's built-in workloads (playbooks/workload.yml) on a host; Ansible's output
 * goes to the tool log (util/run-local.ts). Returns the playbook's summary line (started or kept,
 * pid, address), which the user should see even without --verbose.
 */
export async function deployWorkload(hosts: HostsFile, host: string, vars: Record<string, string | number | boolean>): Promise<string | null> {
  const r = await runPlaybook('workload.yml', hosts.inventoryFile, { limit: host, extraVars: vars });
  return workloadSummary(r.output);
}

/** The Summary task's message in ansible-playbook's default output (pure): `"msg": "<json string>"`. */
export function workloadSummary(output: string): string | null {
  const m = /"msg": ("(?:web|kv) container (?:[^"\\]|\\.)*")/.exec(output);
  if (!m) return null;
  try {
    return (JSON.parse(m[1]!) as string).trim();
  } catch {
    return null;
  }
}

/** Every host a container exists on (running or not), asked of every host of the inventory. */
export async function hostsRunning(config: FerryConfig, hosts: HostsFile, name: string): Promise<{ host: string; status: string }[]> {
  const found = await Promise.all(
    hosts.hosts.map(async (spec) => {
      const h = new RemoteHost(spec, { defaultTimeoutS: config.commandTimeoutS });
      try {
        return (await listContainers(h)).filter((c) => c.name === name).map((c) => ({ host: spec.name, status: c.status }));
      } finally {
        h.dispose();
      }
    }),
  );
  return found.flat();
}

/**
 * The embedded default: a two-host lab, provisioned, with the 256 MiB web workload running
 * somewhere. Returns where it runs now (after earlier sessions it may have moved).
 */
export async function ensureDemo(config: FerryConfig, say: Say): Promise<{ host: string; hosts: string[] }> {
  const file = await ensureLab(config, say);
  const names = file.hosts.map((h) => h.name);
  const where = (await hostsRunning(config, file, DEMO_CONTAINER)).find((c) => c.status === 'running');
  if (where) return { host: where.host, hosts: names };
  say(`deploying the web workload ${DEMO_CONTAINER} (256 MiB) on ${names[0]}`);
  await deployWorkload(file, names[0]!, { workload: 'web', name: DEMO_CONTAINER, ballast_mib: 256, port: 8080, replace: true });
  return { host: names[0]!, hosts: names };
}
