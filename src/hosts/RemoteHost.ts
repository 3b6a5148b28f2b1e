import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { logger } from '../log.ts';
import { hostKeyAlgorithms } from './host-key.ts';
import type { HostSpec } from './inventory.ts';
import { commandLine } from './quote.ts';

export interface ExecOptions {
  /** Seconds before the remote command is killed (by coreutils `timeout` on the host). */
  timeoutS?: number;
  /** Bytes written to the command's stdin. */
  stdin?: string;
  /** Working directory on the host. */
  cwd?: string;
  /** Called with stdout as it arrives (a status byte from CRIU, progress). */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** One SSH session to one host. Commands are argument arrays; the host key is verified. */
export class RemoteHost {
  readonly spec: HostSpec;
  private readonly ssh = new NodeSSH();
  private connected = false;
  /** One connection attempt shared by concurrent callers: node-ssh breaks if connect runs twice. */
  private connecting?: Promise<this>;
  private readonly defaultTimeoutS: number;

  constructor(spec: HostSpec, opts: { defaultTimeoutS?: number } = {}) {
    this.spec = spec;
    this.defaultTimeoutS = opts.defaultTimeoutS ?? 600;
  }

  get name(): string {
    return this.spec.name;
  }

  connect(): Promise<this> {
    this.connecting ??= this.doConnect().catch((e) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<this> {
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
    try {
      await this.ssh.connect({
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
      if (mismatch) {
        throw new FerryError(
          ErrorCode.SshHostKeyMismatch,
          `host key of ${this.name} (${this.spec.address}) does not match the recorded one: refusing to connect`,
        );
      }
      throw new FerryError(ErrorCode.SshConnectFailed, `cannot reach ${this.name} over SSH at ${this.spec.address}:${this.spec.port}: ${errorMessage(e)}`, { original: e });
    }
    this.connected = true;
    return this;
  }

  /** Runs argv on the host; resolves with the exit code (never throws for a non-zero exit). */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    const timeoutS = opts.timeoutS ?? this.defaultTimeoutS;
    const full = ['timeout', '-k', '5', String(timeoutS), ...argv];
    const line = commandLine(full);
    const started = performance.now();
    let r;
    try {
      r = await this.ssh.execCommand(line, { stdin: opts.stdin, cwd: opts.cwd, onStdout: opts.onStdout });
    } catch (e) {
      throw new FerryError(ErrorCode.SshConnectFailed, `lost SSH connection to ${this.name} while running ${argv[0]}: ${errorMessage(e)}`, { original: e });
    }
    const code = r.code ?? (r.signal ? 255 : 0);
    logger().debug({ host: this.name, argv, code, ms: Math.round(performance.now() - started) }, 'exec');
    if (code === 124 || code === 137) {
      throw new FerryError(ErrorCode.CommandTimedOut, `${argv.join(' ')} on ${this.name} timed out after ${timeoutS} s`, {
        details: { stderr: r.stderr },
      });
    }
    return { stdout: r.stdout, stderr: r.stderr, code };
  }

  /** Runs argv and throws a CommandFailed error naming the host and command on a non-zero exit. */
  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
      throw new FerryError(ErrorCode.CommandFailed, `${argv.slice(0, 3).join(' ')} failed on ${this.name} (exit ${r.code}): ${tail}`, {
        details: { host: this.name, argv: [...argv], code: r.code, stderr: r.stderr },
      });
    }
    return r.stdout;
  }

  /** Writes a file on the host from a string (through stdin: nothing touches a shell). */
  async writeFile(path: string, content: string, mode = '0644'): Promise<void> {
    await this.run(['install', '-D', '-m', mode, '/dev/stdin', path], { stdin: content });
  }

  async readFile(path: string): Promise<string> {
    return this.run(['cat', '--', path]);
  }

  dispose(): void {
    if (this.connected) this.ssh.dispose();
    this.connected = false;
    this.connecting = undefined;
  }
}
