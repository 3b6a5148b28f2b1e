import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { listContainers } from '../hosts/containers.ts';
import type { HostSpec, HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { assertNameFree, type ListedContainer } from '../workloads/refusals.ts';

/** Every container of every host, and the hosts that could not be asked. */
export interface Census {
  containers: ListedContainer[];
  /** Hosts asked but not answering (SSH failed, runc list failed), with why. */
  unreachable: { host: string; reason: string }[];
  /** Hosts Ferry never connects to (no pinned key, …): not asked, and Ferry cannot have deployed there. */
  unusable: { host: string; reason: string }[];
}

/** Asks every host of the inventory (or those named) for its containers, in parallel. */
export async function takeCensus(config: FerryConfig, hosts: HostsFile, only?: readonly string[]): Promise<Census> {
  const specs = hosts.hosts.filter((h) => !only || only.includes(h.name));
  const census: Census = { containers: [], unreachable: [], unusable: [] };
  await Promise.all(
    specs.map(async (spec: HostSpec) => {
      if (spec.unusable || !spec.hostKey) {
        census.unusable.push({ host: spec.name, reason: spec.unusable ?? 'no host key is recorded for it' });
        return;
      }
      // A short reconnect window: one dead host must not hold a deploy for a minute.
      const h = new RemoteHost(spec, { defaultTimeoutS: Math.min(config.commandTimeoutS, 60), reconnectS: 5 });
      try {
        for (const c of await listContainers(h)) census.containers.push({ host: spec.name, name: c.name, status: c.status });
      } catch (e) {
        census.unreachable.push({ host: spec.name, reason: errorMessage(e) });
      } finally {
        h.dispose();
      }
    }),
  );
  return census;
}

/**
 * One host per container: refuses each name that any host already has (naming where), and refuses
 * when a host could not be asked, since it might run one of them. Pure.
 */
export function assertNamesFree(names: readonly string[], census: Census): void {
  for (const name of names) assertNameFree(name, census.containers);
  if (census.unreachable.length) {
    const where = census.unreachable.map((u) => `${u.host} (${u.reason})`).join('; ');
    throw new FerryError(
      ErrorCode.PreflightFailed,
      `cannot make sure no other host runs ${names.join(' or ')}: ${where}. A container runs on one host only: bring the host back, or take it out of the inventory`,
      { details: { unreachable: census.unreachable } },
    );
  }
}

/**
 * The ports of `wanted` that something already listens on, from `ss -Hltn` on the host (the
 * containers share their host's network namespace, so a taken port means a container that
 * cannot start). Pure.
 */
export function portsInUse(ssListening: string, wanted: readonly number[]): number[] {
  const listening = new Set<number>();
  for (const line of ssListening.split('\n')) {
    // State Recv-Q Send-Q Local-Address:Port Peer-Address:Port …
    const local = line.trim().split(/\s+/)[3];
    const m = local ? /:(\d{1,5})$/.exec(local) : null;
    if (m) listening.add(Number(m[1]));
  }
  return [...new Set(wanted)].filter((p) => listening.has(p));
}

/** Refuses ports taken on the host, naming each and the option that moves it. */
export async function assertPortsFree(host: RemoteHost, ports: readonly { port: number; option: string }[]): Promise<void> {
  if (ports.length === 0) return;
  const r = await host.exec(['ss', '-Hltn'], { timeoutS: 30, idempotent: true });
  if (r.code !== 0) return; // no ss: the container's own start will say what is wrong
  const taken = portsInUse(r.stdout, ports.map((p) => p.port));
  if (taken.length === 0) return;
  const which = ports.filter((p) => taken.includes(p.port)).map((p) => `${p.port} (${p.option})`);
  throw new FerryError(ErrorCode.PreflightFailed, `port ${which.join(', ')} already in use on ${host.name}: containers share their host's network, so pick another`, {
    details: { host: host.name, ports: taken },
  });
}
