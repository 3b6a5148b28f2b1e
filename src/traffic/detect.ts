import type { HostsFile } from '../hosts/inventory.ts';
import { controllerAddressFor, findHost } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { socketOf } from './haproxy-commands.ts';
import { TrafficSwitch } from './TrafficSwitch.ts';

export type HoldMode = 'auto' | 'on' | 'off';

/**
 * Traffic switching for one migration: HAProxy on the source when it fronts the container, with
 * the hold server unless turned off. `hold: 'on'` without HAProxy is an error, before any freeze.
 */
/** HAProxy's frontend port for a container, from its config (`bind ADDR:PORT`); 80 when unreadable. */
export function frontendPort(cfg: string): number {
  const m = /^\s*bind\s+\S*:(\d{1,5})\b/m.exec(cfg);
  const port = m ? Number(m[1]) : 80;
  return port >= 1 && port <= 65535 ? port : 80;
}

export async function trafficFor(file: HostsFile, container: string, from: string, hold: HoldMode): Promise<{ sw: TrafficSwitch; front: RemoteHost; frontendPort: number } | undefined> {
  const spec = findHost(file, from);
  const front = new RemoteHost(spec);
  const has = (await front.exec(['test', '-S', socketOf(container)])).code === 0;
  if (!has) {
    front.dispose();
    if (hold === 'on') throw new FerryError(ErrorCode.PreflightFailed, `--hold needs HAProxy in front of ${container} on ${from} (run playbooks/haproxy.yml: ferry front ${container} --on ${from})`);
    return undefined;
  }
  // The front reaches the controller on its own network (a two-cloud lab: its cloud's bridge).
  const listen = controllerAddressFor(file, spec);
  if (!listen && hold !== 'off') {
    front.dispose();
    throw new FerryError(ErrorCode.ConfigInvalid, `the hosts file has no controllerAddress for ${from}: the hold server must listen where ${from} can reach it`);
  }
  const sw = new TrafficSwitch({ container, front, hold: hold !== 'off', holdListen: listen, holdOptions: { deadlineMs: 60_000 } });
  const cfg = await front.exec(['cat', `/var/lib/ferry/haproxy/${container}.cfg`], { idempotent: true });
  return { sw, front, frontendPort: frontendPort(cfg.code === 0 ? cfg.stdout : '') };
}
