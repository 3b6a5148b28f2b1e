import { randomBytes } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/config.ts';
import type { LocalRedis } from '../../src/queue/local-redis.ts';
import { startLocalRedis } from '../../src/queue/local-redis.ts';
import { address, onHost } from '../helpers/lab.ts';

const pexec = promisify(execFile);

/**
 * The job key this test run's queue and its worker processes share (jobs are signed, and a
 * standalone worker refuses to start without the key its bot uses).
 */
export const TEST_JOB_KEY = randomBytes(32).toString('hex');
export const testJobKey = (): Buffer => Buffer.from(TEST_JOB_KEY, 'utf8');

export class WorkerProcess {
  private proc?: ChildProcess;
  log = '';

  constructor(private readonly redisUrl: string) {}

  start(): this {
    this.proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), 'worker'], {
      env: { ...process.env, REDIS_URL: this.redisUrl, FERRY_JOB_KEY: TEST_JOB_KEY, FERRY_JOB_KEY_FILE: '', FERRY_PROVISION: '0', FERRY_WORKER_CONCURRENCY: '1', FERRY_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    return this;
  }

  /** It ended by itself (not killed by the test): a worker that cannot start says why in its log. */
  get exited(): boolean {
    return this.proc !== undefined && this.proc.exitCode !== null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  kill9(): void {
    this.proc?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

/** Our Redis, restartable on the same port (its data gone: no persistence, as the fault asks). */
export class RestartableRedis {
  private r?: LocalRedis;
  port = 0;

  async start(): Promise<string> {
    this.r = await startLocalRedis(this.port ? { port: this.port } : {});
    this.port = Number(new URL(this.r.url).port);
    return this.r.url;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    await this.r?.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.r?.stop();
  }
}

/** A lab host's end of its link to the lab bridge: a namespace host's veth, a VM's tap (the lab scripts' names). */
export const linkOf = (host: string, lab: 'namespace' | 'qemu'): string => `${lab === 'qemu' ? 'fq' : 'fv'}-${host.slice(0, 12)}`;

/** Cuts a link to the lab bridge for `seconds`, then restores it (ip link down, up). */
export async function cutLink(dev: string, seconds: number): Promise<void> {
  await pexec('ip', ['link', 'set', dev, 'down']);
  setTimeout(() => void pexec('ip', ['link', 'set', dev, 'up']).catch(() => undefined), seconds * 1000).unref();
}

export async function linkUp(dev: string): Promise<void> {
  await pexec('ip', ['link', 'set', dev, 'up']).catch(() => undefined);
}

/** Kills the controller's SSH connections to a host (their TCP sockets destroyed: ss -K), as a reset on the path would. */
export async function dropSsh(host: string): Promise<void> {
  await pexec('ss', ['-K', 'dst', await address(host), 'dport', '=', ':22']);
}

/** SIGKILL of CRIU's page servers (the target's page server; a lazy dump's CRIU on the source). */
export async function killPageServer(source: string, target: string, lazy: boolean): Promise<void> {
  if (lazy) {
    // The source's dump is the lazy page server: runc's CRIU child.
    const runc = (await onHost(source, ['pgrep', '-f', '^runc --root [^ ]+ checkpoint'], { allowFail: true })).trim().split('\n').filter(Boolean);
    for (const pid of runc) await onHost(source, ['pkill', '-KILL', '-P', pid], { allowFail: true });
    await onHost(target, ['pkill', '-KILL', '-f', 'criu lazy-pages'], { allowFail: true });
    return;
  }
  await onHost(target, ['pkill', '-KILL', '-f', 'criu page-server'], { allowFail: true });
}

/** A small tmpfs on the target's image directory, sized to pass preflight, filled at the fault. */
export async function armDiskFull(target: string, bytes: number): Promise<void> {
  await onHost(target, ['mount', '-t', 'tmpfs', '-o', `size=${bytes}`, 'ferry-fault-full', '/var/lib/ferry/images']);
}

export async function fillDisk(target: string): Promise<void> {
  const df = await onHost(target, ['df', '--output=avail', '-B1', '/var/lib/ferry/images']);
  const avail = Number(df.trim().split('\n').at(-1));
  await onHost(target, ['fallocate', '-l', String(Math.max(avail - 4096, 4096)), '/var/lib/ferry/images/fault-filler'], { allowFail: true });
}

export async function disarmDiskFull(target: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const mounted = (await onHost(target, ['findmnt', '-n', '-o', 'SOURCE', '/var/lib/ferry/images'], { allowFail: true })).includes('ferry-fault-full');
    if (!mounted) return;
    await onHost(target, ['umount', '-l', '/var/lib/ferry/images'], { allowFail: true });
  }
}

/** Takes the container's port on the target (from the host's own network namespace), so `runc restore` fails there. */
export function squatPort(target: string, port: number): () => void {
  const squatter = `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',${port}))\ns.listen()\ntime.sleep(300)`;
  const p = spawn('nsenter', [`--net=/run/netns/ferry-${target}`, 'python3', '-c', squatter], { stdio: 'ignore' });
  return () => p.kill('SIGKILL');
}
