import os from 'node:os';
import type { HostsFile } from '../hosts/inventory.ts';
import { controllerAddressFor, findHost } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { socketOf } from './haproxy-commands.ts';
import { TrafficSwitch } from './TrafficSwitch.ts';

export type HoldMode = 'auto' | 'on' | 'off';

/** HAProxy's frontend port for a container, from its config (`bind ADDR:PORT`); 80 when unreadable. */
export function frontendPort(cfg: string): number {
  const m = /^\s*bind\s+\S*:(\d{1,5})\b/m.exec(cfg);
  const port = m ? Number(m[1]) : 80;
  return port >= 1 && port <= 65535 ? port : 80;
}

/**
 * Traffic switching for one migration: HAProxy on the source when it fronts the container, with
 * the hold server unless turned off. `hold: 'on'` without HAProxy, or a hold server that could not
 * listen where the source's HAProxy is told to send held requests, is an error before any freeze.
 */
export async function trafficFor(file: HostsFile, container: string, from: string, hold: HoldMode): Promise<{ sw: TrafficSwitch; front: RemoteHost; frontendPort: number } | undefined> {
  const spec = findHost(file, from);
  const front = new RemoteHost(spec);
  const has = (await front.exec(['test', '-S', socketOf(container)])).code === 0;
  if (!has) {
    front.dispose();
    if (hold === 'on') throw new FerryError(ErrorCode.PreflightFailed, `--hold needs HAProxy in front of ${container} on ${from} (run playbooks/haproxy.yml: ferry front ${container} --on ${from})`);
    return undefined;
  }
  let holdListen: string | undefined;
  try {
    // The front reaches the controller on its own network (a two-cloud lab: its cloud's bridge).
    holdListen = hold === 'off' ? undefined : holdListenAddress({ controllerAddress: controllerAddressFor(file, spec) }, from);
  } catch (e) {
    front.dispose();
    throw e;
  }
  const sw = new TrafficSwitch({ container, front, hold: hold !== 'off', holdListen, holdOptions: { deadlineMs: 60_000 } });
  const cfg = await front.exec(['cat', `/var/lib/ferry/haproxy/${container}.cfg`], { idempotent: true });
  return { sw, front, frontendPort: frontendPort(cfg.code === 0 ? cfg.stdout : '') };
}

/** This machine's (this network namespace's) interfaces, shaped as `os.networkInterfaces()` returns them. */
export type Interfaces = NodeJS.Dict<readonly Pick<os.NetworkInterfaceInfo, 'address'>[]>;

/**
 * Where the hold server listens: the hosts file's `controllerAddress`, the address HAProxy on `from` is
 * told to send held requests to. It must be an address of the process's own network namespace, or the
 * bind fails (EADDRNOTAVAIL). That is why the compose file runs the worker with `network_mode: host`:
 * in a bridge network the container has addresses of its own (172.x), never the controller's, and a
 * published port would not help, since the hold server takes a free port per migration. Checked before
 * anything is frozen, saying what to do.
 *
 * @param interfaces - This machine's addresses. @defaultValue os.networkInterfaces()
 */
export function holdListenAddress(file: Pick<HostsFile, 'controllerAddress'>, from: string, interfaces: Interfaces = os.networkInterfaces()): string {
  const want = file.controllerAddress;
  if (!want) throw new FerryError(ErrorCode.ConfigInvalid, `the hosts file has no controllerAddress: the hold server must listen on an address of this machine that ${from} can reach (set controllerAddress, or hold with --no-hold)`);
  const mine = Object.values(interfaces).flatMap((list) => (list ?? []).map((i) => normalise(i.address)));
  if (mine.includes(normalise(want))) return want;
  throw new FerryError(
    ErrorCode.ConfigInvalid,
    `the hold server must listen on the controller address ${want} (the hosts file's controllerAddress, which HAProxy on ${from} sends held requests to), but it is not an address of this machine (${mine.join(', ') || 'none'}): run the worker in the controller's network (docker compose: network_mode: host, as in Ferry's docker-compose.yml), or set controllerAddress to an address of this machine that ${from} can reach`,
  );
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address; an IPv6 zone (`%eth0`) does not change it. */
function normalise(a: string): string {
  return a.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '').replace(/%.*$/, '');
}
