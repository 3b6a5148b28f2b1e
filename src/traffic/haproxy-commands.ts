import { ErrorCode, FerryError } from '../errors.ts';

/**
 * HAProxy runtime API commands Ferry sends (pure: built and parsed here, sent over SSH to the
 * admin socket with socat). Backend `be_<container>` has servers src, hold and dst.
 */
export type ServerName = 'src' | 'hold' | 'dst';
export type ServerState = 'ready' | 'drain' | 'maint';

export const backendOf = (container: string) => `be_${container}`;
export const socketOf = (container: string) => `/run/ferry/haproxy-${container}.sock`;

export function setState(container: string, server: ServerName, state: ServerState): string {
  return `set server ${backendOf(container)}/${server} state ${state}`;
}

export function setAddr(container: string, server: ServerName, address: string, port: number): string {
  // The address is a host's from the inventory, which may be a DNS name: HAProxy's `set server addr` takes none.
  if (!/^[0-9a-fA-F:.]+$/.test(address)) {
    throw new FerryError(ErrorCode.TrafficInvalidTarget, `cannot point HAProxy's ${server} server of ${container} at ${address}: not an IP address`, { details: { address, port } });
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FerryError(ErrorCode.TrafficInvalidTarget, `cannot point HAProxy's ${server} server of ${container} at port ${port}: use 1-65535`, { details: { address, port } });
  }
  return `set server ${backendOf(container)}/${server} addr ${address} port ${port}`;
}

export const SHOW_STAT = 'show stat';

/** Current sessions per server of a backend, from `show stat` CSV (`# pxname,svname,qcur,qmax,scur,…`). */
export function currentSessions(csv: string, container: string): Record<string, number> {
  const lines = csv.split('\n').filter(Boolean);
  const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const scur = header.indexOf('scur');
  const out: Record<string, number> = {};
  for (const l of lines.slice(1)) {
    const f = l.split(',');
    if (f[px] === backendOf(container) && f[sv] && f[sv] !== 'BACKEND') out[f[sv]!] = Number(f[scur]) || 0;
  }
  return out;
}
