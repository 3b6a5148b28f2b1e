import { ErrorCode, FerryError } from '../errors.ts';
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

/**
 * The containers runc knows on a host, with their memory.
 * @throws FerryError `ferry_command_failed` (details: host, argv, code, stderr) when `runc list` fails or prints no JSON.
 */
export async function listContainers(host: Pick<RemoteHost, 'name' | 'exec'>): Promise<ContainerInfo[]> {
  const argv = ['runc', '--root', HOST_PATHS.runcRoot, 'list', '--format', 'json'];
  const r = await host.exec(argv, { timeoutS: 30 });
  // A host that never ran a container has no runc root yet.
  if (r.code !== 0 && /no such file/i.test(r.stderr)) return [];
  const details = { host: host.name, argv, code: r.code, stderr: r.stderr };
  if (r.code !== 0) throw new FerryError(ErrorCode.CommandFailed, `runc list failed on ${host.name} (exit ${r.code}): ${r.stderr.trim()}`, { details });
  let entries: RuncListEntry[];
  try {
    entries = parseRuncList(r.stdout);
  } catch (e) {
    throw new FerryError(ErrorCode.CommandFailed, `runc list on ${host.name} printed something that is not JSON: ${r.stdout.trim().slice(0, 200)}`, { original: e, details });
  }
  return Promise.all(entries.map(async (e) => ({ host: host.name, name: e.id, status: e.status, pid: e.pid, memoryBytes: await memoryOf(host, e.id) })));
}

export async function containerStatus(host: RemoteHost, name: string): Promise<string | null> {
  const r = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'state', name], { timeoutS: 30 });
  if (r.code !== 0) return null;
  return (JSON.parse(r.stdout) as { status: string }).status;
}

async function memoryOf(host: Pick<RemoteHost, 'name' | 'exec'>, name: string): Promise<number | null> {
  const cg = cgroupPath(host.name, name);
  // cgroup v1 (this machine's hybrid layout) first, then v2.
  for (const f of [`/sys/fs/cgroup/memory${cg}/memory.usage_in_bytes`, `/sys/fs/cgroup${cg}/memory.current`]) {
    const r = await host.exec(['cat', f], { timeoutS: 10 });
    if (r.code === 0 && /^\d+\s*$/.test(r.stdout)) return Number(r.stdout.trim());
  }
  return null;
}
