import path from 'node:path';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { HostCapabilities } from '../hosts/probe.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { parseMemAvailable, type HostMemory } from './plan.ts';
import type { HostInfo } from './results.ts';

/** What the size check needs from a host: its available memory and what /var/lib/ferry is on. */
export async function hostMemory(h: RemoteHost): Promise<HostMemory> {
  const [mem, fs] = await Promise.all([
    h.exec(['cat', '/proc/meminfo'], { timeoutS: 30, idempotent: true }),
    // /var/lib/ferry exists on every provisioned host (its subdirectories only once used).
    h.exec(['stat', '-f', '-c', '%T', path.posix.dirname(HOST_PATHS.containers)], { timeoutS: 30, idempotent: true }),
  ]);
  return { host: h.name, availableKiB: parseMemAvailable(mem.stdout) ?? 0, ferryFs: fs.code === 0 ? fs.stdout.trim() : 'unknown' };
}

export function hostInfo(h: RemoteHost, caps: HostCapabilities, podman: string | null): HostInfo {
  return { name: h.name, address: h.spec.address, kernel: caps.kernel, criu: caps.criuVersion, runc: caps.runcVersion, podman, softDirty: caps.softDirty, uffd: caps.uffd };
}
