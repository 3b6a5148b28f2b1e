import net from 'node:net';
import shellQuote from 'shell-quote';
import { ErrorCode, FerryError, isFerryError } from '../errors.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';

/** How to tell that a restored container serves again. */
export type HealthSpec =
  | { kind: 'http'; port: number; path: string }
  | { kind: 'redis'; port: number }
  | { kind: 'tcp'; port: number }
  /**
   * A command run inside the container (`runc exec`); healthy when it exits 0. `port` is the
   * container's service port (the port preflight and the traffic switch use it), 0 when it has none.
   */
  | { kind: 'exec'; argv: string[]; port: number }
  | { kind: 'none' };

interface OciConfig {
  process?: { args?: string[]; env?: string[] };
  annotations?: Record<string, string>;
}

/** The annotation that holds a container's health check, in the syntax of {@link parseHealth}. */
export const HEALTH_ANNOTATION = 'org.ferry.health';
/** The annotation that lists a container's service ports, comma-separated (`8080,8443`). */
export const PORTS_ANNOTATION = 'org.ferry.ports';

/**
 * Parses `http:PORT[:/path]`, `tcp:PORT`, `redis:PORT`, `exec:CMD` or `none` (the `--health`
 * option and the annotation). `exec:` takes a JSON array of strings (`exec:["redis-cli","ping"]`)
 * or a command line split like a shell's words (`exec:pg_isready -U app`), without operators,
 * redirections or globs: it runs one program, never a shell. `servicePort` fills an exec check's
 * `port`. Throws a UsageError that says what was wrong.
 */
export function parseHealth(text: string, servicePort = 0): HealthSpec {
  const bad = (why: string) =>
    new FerryError(ErrorCode.UsageError, `invalid health check '${text}': ${why} (use http:PORT:/path, tcp:PORT, redis:PORT, exec:CMD or none)`);
  if (text === 'none') return { kind: 'none' };
  if (text.startsWith('exec:')) return { kind: 'exec', argv: parseExecCommand(text.slice(5), bad), port: servicePort };
  const m = /^(http|redis|tcp):(\d{1,5})(?::(\/\S*))?$/.exec(text);
  if (!m) throw bad('unknown form');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw bad(`port ${port} is out of range 1-65535`);
  if (m[1] === 'http') return { kind: 'http', port, path: m[3] ?? '/' };
  if (m[3] !== undefined) throw bad(`a path only goes with http`);
  return { kind: m[1] as 'redis' | 'tcp', port };
}

function parseExecCommand(cmd: string, bad: (why: string) => FerryError): string[] {
  let argv: unknown;
  if (cmd.trimStart().startsWith('[')) {
    try {
      argv = JSON.parse(cmd);
    } catch {
      throw bad('exec:[...] must be a JSON array of strings');
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw bad('exec:[...] must be a JSON array of strings');
  } else {
    // Variables are kept as written: the check runs in the container, not in Ferry's environment.
    const words = shellQuote.parse(cmd, (key) => `$${key}`);
    const op = words.find((w) => typeof w !== 'string');
    if (op !== undefined) {
      throw bad(`exec runs one program, not a shell line (found ${JSON.stringify(op)}); for shell syntax use exec:["sh","-c","..."]`);
    }
    argv = words;
  }
  const list = argv as string[];
  if (list.length === 0 || list[0] === '') throw bad('exec needs a command');
  return list;
}

/** The annotation text for a spec; {@link parseHealth} reads it back to the same spec (bar an exec check's port). */
export function formatHealth(h: HealthSpec): string {
  switch (h.kind) {
    case 'http':
      return `http:${h.port}:${h.path}`;
    case 'redis':
    case 'tcp':
      return `${h.kind}:${h.port}`;
    case 'exec':
      // JSON, not shell words: no quoting rule can make it mean anything else when read back.
      return `exec:${JSON.stringify(h.argv)}`;
    case 'none':
      return 'none';
  }
}

/**
 * From the container's config.json: the annotation `org.ferry.health` wins (`none` included: a
 * container deployed with an explicit "no check" never falls back to FERRY_PORT); else Ferry's
 * own workloads are recognised by their command and FERRY_PORT.
 */
export function healthSpecFromConfig(config: OciConfig): HealthSpec {
  const ann = config.annotations?.[HEALTH_ANNOTATION];
  if (ann) {
    try {
      return parseHealth(ann, firstPort(config.annotations?.[PORTS_ANNOTATION]));
    } catch {
      return fallbackHealth(config);
    }
  }
  return fallbackHealth(config);
}

function firstPort(ports: string | undefined): number {
  const p = Number((ports ?? '').split(',')[0]);
  return Number.isInteger(p) && p >= 1 && p <= 65535 ? p : 0;
}

function fallbackHealth(config: OciConfig): HealthSpec {
  const env = Object.fromEntries((config.process?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const port = Number(env.FERRY_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return { kind: 'none' };
  const args = config.process?.args ?? [];
  if (args.some((a) => a.endsWith('redis-server'))) return { kind: 'redis', port };
  return { kind: 'http', port, path: '/counter' };
}

export function describeHealth(h: HealthSpec): string {
  switch (h.kind) {
    case 'http':
      return `HTTP GET :${h.port}${h.path}`;
    case 'redis':
      return `Redis PING on :${h.port}`;
    case 'tcp':
      return `TCP connect to :${h.port}`;
    case 'exec':
      return `exit 0 from ${JSON.stringify(h.argv)} run in the container`;
    case 'none':
      return 'runc state running';
  }
}

/** One attempt; true when the service answers as expected. */
export async function probeOnce(address: string, spec: HealthSpec, timeoutMs = 1000): Promise<boolean> {
  switch (spec.kind) {
    case 'http': {
      try {
        const r = await fetch(`http://${address}:${spec.port}${spec.path}`, { signal: AbortSignal.timeout(timeoutMs) });
        await r.arrayBuffer();
        return r.ok;
      } catch {
        return false;
      }
    }
    case 'redis':
      return tcpExchange(address, spec.port, 'PING\r\n', (s) => s.startsWith('+PONG'), timeoutMs);
    case 'tcp':
      return tcpExchange(address, spec.port, null, () => true, timeoutMs);
    case 'exec':
      // Needs the container's host, not an address: probeExec, or waitHealthy with a HealthTarget.
      throw new FerryError(ErrorCode.HealthCheckFailed, `an exec health check (${JSON.stringify(spec.argv)}) runs on the container's host through runc exec, not from an address: use probeExec`);
    case 'none':
      return true;
  }
}

function tcpExchange(address: string, port: number, send: string | null, ok: (reply: string) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    let buf = '';
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      if (send === null) done(true);
      else sock.write(send);
    });
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) done(ok(buf));
    });
  });
}

/**
 * Where a health check runs. An address is enough for HTTP, Redis and TCP checks (they run from
 * the controller); an exec check runs in the container on its host, so it needs `exec` too.
 */
export interface HealthTarget {
  /** The container's host address (containers share their host's network namespace). */
  address: string;
  /** For exec checks: the host's session and the container's name. */
  exec?: {
    host: Pick<RemoteHost, 'exec'>;
    name: string;
    /** runc's state directory on the host. @defaultValue HOST_PATHS.runcRoot (/run/ferry/runc) */
    runcRoot?: string;
  };
}

/** The target of every check of container `name` on `host`: its address, and its host for exec checks. */
export function healthTarget(host: Pick<RemoteHost, 'exec' | 'spec'>, name: string): HealthTarget {
  return { address: host.spec.address, exec: { host, name } };
}

/** `runc exec` of an exec health check in a Ferry container. Pure. */
export function execHealthArgv(name: string, argv: readonly string[], runcRoot: string = HOST_PATHS.runcRoot): string[] {
  return ['runc', '--root', runcRoot, 'exec', name, ...argv];
}

export interface ProbeExecOptions {
  /** Seconds before the check counts as failed. @defaultValue 10 */
  timeoutS?: number;
  /** runc's state directory on the host. @defaultValue HOST_PATHS.runcRoot (/run/ferry/runc) */
  runcRoot?: string;
}

/**
 * One exec health check: the command runs inside the container (runc exec over SSH) and passes
 * when it exits 0; a command that outlives `timeoutS` fails. Run it only while the container is
 * not being checkpointed: the exec'd process has SSH's pipes as stdio, which CRIU cannot dump.
 */
export async function probeExec(host: Pick<RemoteHost, 'exec'>, name: string, spec: Extract<HealthSpec, { kind: 'exec' }>, opts: ProbeExecOptions = {}): Promise<boolean> {
  try {
    const r = await host.exec(execHealthArgv(name, spec.argv, opts.runcRoot), { timeoutS: opts.timeoutS ?? 10 });
    return r.code === 0;
  } catch (e) {
    if (isFerryError(e, ErrorCode.CommandTimedOut)) return false;
    throw e;
  }
}

/** Longest single exec check while polling: a hung command must not eat the whole wait. */
const EXEC_ATTEMPT_S = 10;

/**
 * Polls until healthy or the deadline; returns seconds waited, or null on timeout. `at` is the
 * container's host address, or a {@link HealthTarget}, which exec checks need (without one they
 * are refused, as by {@link probeOnce}).
 */
export async function waitHealthy(at: string | HealthTarget, spec: HealthSpec, timeoutS: number, intervalMs = 20): Promise<number | null> {
  const target = typeof at === 'string' ? { address: at } : at;
  const t0 = performance.now();
  const deadline = t0 + timeoutS * 1000;
  while (performance.now() < deadline) {
    if (await attempt(target, spec, deadline)) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return null;
}

function attempt(target: HealthTarget, spec: HealthSpec, deadline: number): Promise<boolean> {
  if (spec.kind !== 'exec' || !target.exec) return probeOnce(target.address, spec);
  const leftS = Math.ceil((deadline - performance.now()) / 1000);
  const { host, name, runcRoot } = target.exec;
  return probeExec(host, name, spec, { timeoutS: Math.min(EXEC_ATTEMPT_S, Math.max(1, leftS)), runcRoot });
}
