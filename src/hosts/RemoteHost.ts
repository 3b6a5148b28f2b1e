import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { logger } from '../log.ts';
import { hostKeyAlgorithms } from './host-key.ts';
import type { HostSpec } from './inventory.ts';
import { commandLine } from './quote.ts';

export interface ExecOptions {
  /** Seconds before the remote command is killed (by coreutils `timeout` on the host). @defaultValue the host's default (FERRY_COMMAND_TIMEOUT_S) */
  timeoutS?: number;
  /** Bytes written to the command's stdin. */
  stdin?: string;
  /** Working directory on the host. */
  cwd?: string;
  /** Called with stdout as it arrives (a status byte from CRIU, progress). */
  onStdout?: (chunk: Buffer) => void;
  /**
   * Running the command twice does no harm (it reads, or it converges: rsync, rm -rf, mkdir -p).
   * A command cut off by a dropped connection is then run again on a new one; any other command
   * fails with `SshConnectionLost`, because its outcome on the host is unknown.
   * @defaultValue false
   */
  idempotent?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RemoteHostOptions {
  /** @defaultValue 600 */
  defaultTimeoutS?: number;
  /**
   * How long to keep trying to (re)connect before giving up, seconds: a link cut for a few
   * seconds, or a restarted sshd, is ridden out. @defaultValue 60
   */
  reconnectS?: number;
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, PIPE: 13, TERM: 15 };

/**
 * One SSH session to one host, and the one way Ferry runs anything there. Commands are argument
 * arrays (quoted, never a shell string); the host key is verified on every connection. The
 * connection may drop at any time (a keepalive timeout, a reset, the peer restarting): that is
 * noticed and logged, never a crash of the process; the next command reconnects (with backoff);
 * a command cut off by the drop is a failure saying so (or is run again when idempotent).
 */
export class RemoteHost {
  readonly spec: HostSpec;
  private ssh?: NodeSSH;
  /** One connection attempt shared by concurrent callers. */
  private connecting?: Promise<NodeSSH>;
  private readonly defaultTimeoutS: number;
  private readonly reconnectS: number;
  private disposed = false;
  /** Why the last connection ended, for messages. */
  private lastDrop?: string;

  constructor(spec: HostSpec, opts: RemoteHostOptions = {}) {
    this.spec = spec;
    this.defaultTimeoutS = opts.defaultTimeoutS ?? 600;
    this.reconnectS = opts.reconnectS ?? 60;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Connects now (the first command would anyway); resolves with this host. */
  async connect(): Promise<this> {
    await this.session();
    return this;
  }

  private session(): Promise<NodeSSH> {
    if (this.disposed) this.disposed = false; // a disposed host may be used again: it reconnects
    if (this.ssh?.isConnected()) return Promise.resolve(this.ssh);
    this.connecting ??= this.connectWithBackoff().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectWithBackoff(): Promise<NodeSSH> {
    const deadline = Date.now() + this.reconnectS * 1000;
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectOnce();
      } catch (e) {
        // A wrong host key is not the network: never retried.
        if (e instanceof FerryError && (e.code === ErrorCode.SshHostKeyMismatch || e.code === ErrorCode.HostUnusable)) throw e;
        if (Date.now() + delay > deadline) throw e;
        logger().debug({ host: this.name, attempt, err: errorMessage(e) }, 'ssh reconnect');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  private async connectOnce(): Promise<NodeSSH> {
    // Ferry never trusts on first use: a host without a pinned key is refused before any packet is sent.
    if (this.spec.unusable || !this.spec.hostKey) {
      throw new FerryError(
        ErrorCode.HostUnusable,
        `refusing to connect to ${this.name} (${this.spec.address}:${this.spec.port}): ${this.spec.unusable ?? 'no host key is recorded for it'}`,
        { details: { host: this.name } },
      );
    }
    const expected = this.spec.hostKey.split(/\s+/)[1];
    const serverHostKey = hostKeyAlgorithms(this.spec.hostKey);
    let mismatch = false;
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host: this.spec.address,
        port: this.spec.port,
        username: this.spec.user,
        privateKey: await readFile(this.spec.privateKeyFile, 'utf8'),
        readyTimeout: 15_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 4,
        ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
        // ssh2 hands over the raw key blob; compare it with the one recorded for this host.
        hostVerifier: (key: Buffer) => {
          const ok = key.toString('base64') === expected;
          mismatch = !ok;
          return ok;
        },
      });
    } catch (e) {
      ssh.dispose();
      if (mismatch) {
        throw new FerryError(ErrorCode.SshHostKeyMismatch, `host key of ${this.name} (${this.spec.address}) does not match the recorded one: refusing to connect`, { details: { host: this.name } });
      }
      throw new FerryError(ErrorCode.SshConnectFailed, `cannot reach ${this.name} over SSH at ${this.spec.address}:${this.spec.port}: ${errorMessage(e)}`, { original: e, details: { host: this.name } });
    }
    // For the connection's whole life: an error after the handshake (keepalive timeout,
    // ECONNRESET) must end only this connection, never the process.
    const conn = ssh.connection!;
    conn.on('error', (e: Error) => {
      this.lastDrop = e.message;
      logger().warn({ host: this.name, err: e.message }, 'ssh connection error');
    });
    conn.on('close', () => {
      if (this.ssh === ssh) this.ssh = undefined;
    });
    this.ssh = ssh;
    return ssh;
  }

  /** Runs argv on the host; resolves with the exit code (never throws for a non-zero exit). */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutS = opts.timeoutS ?? this.defaultTimeoutS;
    const line = commandLine(['timeout', '-k', '5', String(timeoutS), ...argv]);
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const ssh = await this.session();
      let r: { stdout: string; stderr: string; code: number | null; signal: string | null };
      try {
        r = await this.withDeadline(ssh, timeoutS + 20, argv, ssh.execCommand(line, { stdin: opts.stdin, cwd: opts.cwd, onStdout: opts.onStdout }));
      } catch (e) {
        if (e instanceof FerryError && e.code === ErrorCode.CommandTimedOut) throw e;
        r = { stdout: '', stderr: errorMessage(e), code: null, signal: null };
      }
      if (r.code === null && r.signal === null) {
        // The channel closed without an exit status: the connection dropped under the command.
        this.drop(ssh);
        if (opts.idempotent && attempt < 3) {
          logger().warn({ host: this.name, argv: argv.slice(0, 3), attempt }, 'connection lost under an idempotent command: running it again');
          continue;
        }
        throw new FerryError(ErrorCode.SshConnectionLost, `lost the SSH connection to ${this.name} while running ${argv.slice(0, 2).join(' ')}${this.lastDrop ? ` (${this.lastDrop})` : ''}: its outcome on the host is unknown`, {
          details: { host: this.name, argv: [...argv] },
        });
      }
      const code = r.code ?? 128 + (SIGNALS[r.signal ?? ''] ?? 0);
      logger().debug({ host: this.name, argv, code, ms: Math.round(performance.now() - started) }, 'exec');
      if (code === 124 || (code === 137 && r.code !== null)) {
        throw new FerryError(ErrorCode.CommandTimedOut, `${argv.join(' ')} on ${this.name} timed out after ${timeoutS} s`, { details: { host: this.name, stderr: r.stderr } });
      }
      return { stdout: r.stdout, stderr: r.stderr, code };
    }
  }

  /**
   * The host enforces the timeout (coreutils `timeout`); this bounds the wait on our side too, for
   * a link that went silent without closing: past it, the connection is dropped.
   */
  private withDeadline<T>(ssh: NodeSSH, seconds: number, argv: readonly string[], p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.drop(ssh);
        reject(new FerryError(ErrorCode.CommandTimedOut, `${argv.slice(0, 3).join(' ')} on ${this.name}: no answer within ${seconds} s, connection dropped`, { details: { host: this.name } }));
      }, seconds * 1000);
      timer.unref();
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  }

  private drop(ssh: NodeSSH): void {
    if (this.ssh === ssh) this.ssh = undefined;
    ssh.dispose();
  }

  /**
   * Runs argv and throws a CommandFailed error naming the host and command on a non-zero exit
   * (other than `okCodes`, exit codes that mean success for this command).
   */
  async run(argv: readonly string[], opts: ExecOptions & { okCodes?: readonly number[] } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0 && !opts.okCodes?.includes(r.code)) {
      const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
      throw new FerryError(ErrorCode.CommandFailed, `${argv.slice(0, 3).join(' ')} failed on ${this.name} (exit ${r.code}): ${tail}`, {
        details: { host: this.name, argv: [...argv], code: r.code, stderr: r.stderr },
      });
    }
    return r.stdout;
  }

  /** Writes a file on the host from a string (through stdin: nothing touches a shell). Idempotent. */
  async writeFile(path: string, content: string, mode = '0644'): Promise<void> {
    await this.run(['install', '-D', '-m', mode, '/dev/stdin', path], { stdin: content, idempotent: true });
  }

  async readFile(path: string): Promise<string> {
    return this.run(['cat', '--', path], { idempotent: true });
  }

  /** Closes the connection; the host may be used again (it reconnects). */
  dispose(): void {
    this.disposed = true;
    if (this.ssh) this.drop(this.ssh);
  }
}
