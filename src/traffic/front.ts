import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { socketOf } from './haproxy-commands.ts';

/** A container's HAProxy front on a host, as playbooks/haproxy.yml lays it out. Pure. */
export function frontFiles(container: string): { config: string; socket: string; pidFile: string } {
  return { config: `/var/lib/ferry/haproxy/${container}.cfg`, socket: socketOf(container), pidFile: `/run/ferry/haproxy-${container}.pid` };
}

/** True when the host has any part of a front for the container (its config, socket or pid file). */
export async function hasFront(host: Pick<RemoteHost, 'exec'>, container: string): Promise<boolean> {
  const f = frontFiles(container);
  const r = await host.exec(['ls', '-d', '--', f.config, f.socket, f.pidFile], { timeoutS: 30, idempotent: true });
  return r.stdout.trim() !== '';
}

/**
 * Stops the HAProxy that fronts a removed container and deletes its files. The pid file's process
 * is signalled only if it is an haproxy (a stale pid file may name any process by now).
 */
export async function removeFront(host: Pick<RemoteHost, 'exec'>, container: string, graceS = 5): Promise<void> {
  const f = frontFiles(container);
  const pid = Number((await host.exec(['cat', f.pidFile], { timeoutS: 30, idempotent: true })).stdout.trim());
  const isHaproxy = async () => Number.isInteger(pid) && pid > 0 && (await host.exec(['cat', `/proc/${pid}/comm`], { timeoutS: 30, idempotent: true })).stdout.trim() === 'haproxy';
  if (await isHaproxy()) {
    await host.exec(['kill', '-TERM', String(pid)], { timeoutS: 30 });
    const deadline = performance.now() + graceS * 1000;
    while (performance.now() < deadline && (await isHaproxy())) await new Promise((r) => setTimeout(r, 200));
    if (await isHaproxy()) await host.exec(['kill', '-KILL', String(pid)], { timeoutS: 30 });
  }
  await host.exec(['rm', '-f', '--', f.config, f.socket, f.pidFile], { timeoutS: 30, idempotent: true });
}
