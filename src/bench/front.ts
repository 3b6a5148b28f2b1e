/**
 * HAProxy in front of the benchmark's container on both hosts (playbooks/haproxy.yml, as
 * `ferry front` does), so each move, in either direction, has a front on its source. A migration
 * leaves its source's HAProxy pointing at the target; before the container comes back through it,
 * its servers are set back to serving the local container.
 */
import type { HostsFile } from '../hosts/inventory.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { runPlaybook } from '../infra/ansible.ts';
import { killPidFile } from '../migrate/context.ts';
import { setState, socketOf } from '../traffic/haproxy-commands.ts';

/** The front's port on each host: clear of 80, where a lab's demo front may listen. */
export const BENCH_FRONT_PORT = 8180;

/** Runtime-API commands that make a front serve its local container again (src ready, hold and dst off). */
export function resetFrontCommands(container: string): string[] {
  return [setState(container, 'src', 'ready'), setState(container, 'hold', 'maint'), setState(container, 'dst', 'maint')];
}

/** What playbooks/haproxy.yml leaves on a host for a container. */
export function frontFiles(container: string): { pid: string; socket: string; config: string } {
  return { pid: `/run/ferry/haproxy-${container}.pid`, socket: socketOf(container), config: `/var/lib/ferry/haproxy/${container}.cfg` };
}

/** HAProxy for `container` (serving `port`) on every host named, at `frontendPort`. */
export async function frontOn(file: HostsFile, hosts: readonly string[], container: string, port: number, frontendPort = BENCH_FRONT_PORT, say?: (l: string) => void): Promise<void> {
  await runPlaybook('haproxy.yml', file.inventoryFile, { limit: hosts.join(','), extraVars: { name: container, port, frontend_port: frontendPort }, onLine: say });
}

export async function resetFront(host: RemoteHost, container: string): Promise<void> {
  for (const c of resetFrontCommands(container)) {
    await host.run(['socat', 'stdio', `unix-connect:${socketOf(container)}`], { stdin: `${c}\n`, timeoutS: 15, idempotent: true });
  }
}

/** Stops the front and removes its files; nothing there is fine. */
export async function stopFront(host: RemoteHost, container: string): Promise<void> {
  const f = frontFiles(container);
  await killPidFile(host, f.pid);
  await host.exec(['rm', '-f', f.socket, f.config], { idempotent: true });
}
