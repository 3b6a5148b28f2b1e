import { ErrorCode, FerryError } from '../errors.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { HOST_PATHS } from '../hosts/paths.ts';

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(mountinfo: string, path: string): string[] {
  const dir = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const prefix = `${dir}/`;
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything below dir (CRIU leaves criu-root and .criu.cgyard.* mounts after failures). */
export async function umountUnder(host: RemoteHost, dir: string): Promise<void> {
  const info = await host.exec(['cat', '/proc/self/mountinfo'], { idempotent: true });
  for (const m of mountsUnder(info.stdout, dir)) await host.exec(['umount', '-l', m], { idempotent: true });
}

/**
 * Removes a container (running or half-restored) and what a failed restore leaves behind, so
 * the next restore of the same name can start clean. Checks that it is gone: a copy that survives
 * (`runc delete` failed) must never be mistaken for a removed one.
 */
export async function removeContainer(host: RemoteHost, name: string): Promise<void> {
  const del = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'delete', '--force', name], { timeoutS: 60, idempotent: true });
  const state = `${HOST_PATHS.runcRoot}/${name}`;
  await umountUnder(host, state);
  await host.exec(['rm', '-rf', state], { idempotent: true });
  const still = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'state', name], { timeoutS: 30, idempotent: true });
  if (still.code === 0) {
    throw new FerryError(ErrorCode.CommandFailed, `could not remove container ${name} on ${host.name}: ${(del.stderr || del.stdout).trim() || 'runc still lists it'}`, { details: { host: host.name } });
  }
}
