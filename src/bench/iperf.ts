/**
 * The link's own limit: raw TCP between two hosts with iperf3, over the path migrations take
 * (each host's peer address). Argument builders and the parser are pure; measureLink runs them.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { killPidFile } from '../migrate/context.ts';

/** One direction of the link, measured. */
export interface LinkMeasurement {
  from: string;
  to: string;
  /** Goodput as the receiver counted it. */
  bitsPerSecond: number;
  bytes: number;
  seconds: number;
  /** TCP retransmissions on the sender (Linux reports them); null where iperf3 gives none. */
  retransmits: number | null;
  /** ISO time the measurement ended. */
  at: string;
}

export interface IperfServerArgs {
  port: number;
  /** The address to listen on (the target's peer address). */
  bind: string;
  pidFile: string;
}

/** One client, then exit (`-1`), daemonized (`-D`), so the SSH command returns once it listens. */
export function iperfServerArgv(a: IperfServerArgs): string[] {
  return ['iperf3', '-s', '-1', '-D', '-p', String(a.port), '-B', a.bind, '--pidfile', a.pidFile];
}

export interface IperfClientArgs {
  server: string;
  port: number;
  /** The source address (the source's peer address), so the test takes the migration's path. */
  bind: string;
  /** @defaultValue 10 */
  seconds?: number;
}

export function iperfClientArgv(a: IperfClientArgs): string[] {
  return ['iperf3', '-c', a.server, '-p', String(a.port), '-B', a.bind, '-t', String(a.seconds ?? 10), '-J', '--connect-timeout', '5000'];
}

/** Lists a listening TCP port (empty output: nothing listens there yet). */
export function listeningArgv(port: number): string[] {
  return ['ss', '-Hltn', `sport = :${port}`];
}

interface IperfJson {
  error?: unknown;
  end?: {
    sum_received?: { bytes?: unknown; seconds?: unknown; bits_per_second?: unknown };
    sum_sent?: { retransmits?: unknown };
  };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The receiver's figures from `iperf3 -c … -J`. iperf3 3.12 exits 0 even when it could not
 * connect; its `error` field says so, and that is a failure here.
 */
export function parseIperfJson(text: string): Pick<LinkMeasurement, 'bitsPerSecond' | 'bytes' | 'seconds' | 'retransmits'> {
  let j: IperfJson;
  try {
    j = JSON.parse(text) as IperfJson;
  } catch {
    throw new FerryError(ErrorCode.LinkMeasureFailed, `iperf3 printed no JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  }
  if (typeof j !== 'object' || j === null) throw new FerryError(ErrorCode.LinkMeasureFailed, 'iperf3 printed JSON that is not an object');
  if (typeof j.error === 'string' && j.error) throw new FerryError(ErrorCode.LinkMeasureFailed, `iperf3: ${j.error}`);
  const r = j.end?.sum_received;
  if (!r || !finite(r.bits_per_second) || !finite(r.bytes) || !finite(r.seconds) || r.bits_per_second <= 0) {
    throw new FerryError(ErrorCode.LinkMeasureFailed, 'iperf3 printed no receiver totals (end.sum_received)');
  }
  const re = j.end?.sum_sent?.retransmits;
  return { bitsPerSecond: r.bits_per_second, bytes: r.bytes, seconds: r.seconds, retransmits: finite(re) ? re : null };
}

export interface MeasureOptions {
  /** @defaultValue 10 */
  seconds?: number;
  /** First port tried on the target; a few others follow when it is taken. @defaultValue a random port from 15201 */
  port?: number;
}

const peerAddressOf = (h: RemoteHost) => h.spec.peerAddress ?? h.spec.address;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** iperf3 from `from` to `to` (a server on the target, the client on the source), both over SSH. */
export async function measureLink(from: RemoteHost, to: RemoteHost, opts: MeasureOptions = {}): Promise<LinkMeasurement> {
  const seconds = opts.seconds ?? 10;
  const first = opts.port ?? 15201 + Math.floor(Math.random() * 500);
  const missing = await to.exec(['iperf3', '--version'], { timeoutS: 30, idempotent: true });
  if (missing.code !== 0) throw new FerryError(ErrorCode.LinkMeasureFailed, `iperf3 is not installed on ${to.name}: run scripts/setup.sh (or apt-get install iperf3)`, { details: { host: to.name } });
  let lastErr = '';
  for (let port = first; port < first + 4; port++) {
    const pidFile = `${HOST_PATHS.work}/iperf3-${port}.pid`;
    const started = await to.exec(iperfServerArgv({ port, bind: peerAddressOf(to), pidFile }), { timeoutS: 30 });
    if (started.code !== 0) {
      lastErr = (started.stderr || started.stdout).trim();
      continue;
    }
    try {
      // -D returns before the socket is bound: wait until it listens (5 s at most).
      for (let i = 0; i < 50 && !(await to.exec(listeningArgv(port), { timeoutS: 10, idempotent: true })).stdout.trim(); i++) await sleep(100);
      const r = await from.exec(iperfClientArgv({ server: peerAddressOf(to), port, bind: peerAddressOf(from), seconds }), { timeoutS: seconds + 60 });
      const m = parseIperfJson(r.stdout || r.stderr);
      return { from: from.name, to: to.name, ...m, at: new Date().toISOString() };
    } finally {
      await killPidFile(to, pidFile).catch(() => undefined);
    }
  }
  throw new FerryError(ErrorCode.LinkMeasureFailed, `could not start an iperf3 server on ${to.name} (ports ${first}-${first + 3}): ${lastErr}`, { details: { host: to.name } });
}
