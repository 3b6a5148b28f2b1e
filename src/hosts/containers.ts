import type { RemoteHost } from './RemoteHost.ts';
import { HOST_PATHS, cgroupPath } from './paths.ts';

export interface ContainerInfo {
  host: string;
  name: string;
  status: string;
  pid: number;
  /** Memory charged to the container's cgroup, bytes (null when unknown). */
  memoryBytes: number | null;
}

interface RuncListEntry {
  id: string;
  pid: number;
  status: string;
}

export function parseRuncList(out: string): RuncListEntry[] {
  const t = out.trim();
  if (!t || t === 'null') return [];
  return (JSON.parse(t) as RuncListEntry[]).map((e) => ({ id: e.id, pid: e.pid, status: e.status }));
}

export async function listContainers(host: RemoteHost): Promise<ContainerInfo[]> {
  const r = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'list', '--format', 'json'], { timeoutS: 30 });
  // A host that never ran a container has no runc root yet.
  if (r.code !== 0 && /no such file/i.test(r.stderr)) return [];
  if (r.code !== 0) throw new Error(`runc list failed on ${host.name}: ${r.stderr.trim()}`);
  const entries = parseRuncList(r.stdout);
  return Promise.all(entries.map(async (e) => ({ host: host.name, name: e.id, status: e.status, pid: e.pid, memoryBytes: await memoryOf(host, e.id) })));
}

export async function containerStatus(host: RemoteHost, name: string): Promise<string | null> {
  const r = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'state', name], { timeoutS: 30 });
  if (r.code !== 0) return null;
  return (JSON.parse(r.stdout) as { status: string }).status;
}

async function memoryOf(host: RemoteHost, name: string): Promise<number | null> {
  const cg = cgroupPath(host.name, name);
  // cgroup v1 (this machine's hybrid layout) first, then v2.
  for (const f of [`/sys/fs/cgroup/memory${cg}/memory.usage_in_bytes`, `/sys/fs/cgroup${cg}/memory.current`]) {
    const r = await host.exec(['cat', f], { timeoutS: 10 });
    if (r.code === 0 && /^\d+\s*$/.test(r.stdout)) return Number(r.stdout.trim());
  }
  return null;
}
