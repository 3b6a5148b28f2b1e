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
  const info = await host.exec(['cat', '/proc/self/mountinfo']);
  for (const m of mountsUnder(info.stdout, dir)) await host.exec(['umount', '-l', m]);
}

/**
 * Removes a container (running or half-restored) and what a failed restore leaves behind, so
 * the next restore of the same name can start clean.
 */
export async function removeContainer(host: RemoteHost, name: string): Promise<void> {
  await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'delete', '--force', name], { timeoutS: 60 });
  const state = `${HOST_PATHS.runcRoot}/${name}`;
  await umountUnder(host, state);
  await host.exec(['rm', '-rf', state]);
}
