import { ErrorCode, FerryError } from '../errors.ts';
import type { JobState } from './job-state.ts';
import { HOST_PATHS } from './paths.ts';
import type { RemoteHost } from './RemoteHost.ts';

export type { JobState } from './job-state.ts';

const JOB = `${HOST_PATHS.libexec}/job`;

/** Parses the helper's one-line answer (`rc 0`, `running 123`, `lost`, `absent`, `output`). */
export function parseJobState(line: string): JobState | { state: 'output' } {
  const t = line.trim().split('\n').at(-1)?.trim() ?? '';
  const rc = /^rc (\d+)$/.exec(t);
  if (rc) return { state: 'rc', rc: Number(rc[1]) };
  if (/^running \d+$/.test(t)) return { state: 'running' };
  if (t === 'lost' || t === 'absent' || t === 'output') return { state: t };
  return { state: 'unknown' };
}

/**
 * A command on a host that outlives our SSH connection (playbooks/files/job): started detached,
 * its exit code kept in its directory. Long or decisive steps (a checkpoint, a restore, a lazy
 * dump serving pages) run this way, so a dropped connection or a dead controller never leaves
 * their outcome unknown: the next look (after a reconnect, or by `ferry recover`) reads it.
 */
export class HostJob {
  constructor(
    readonly host: RemoteHost,
    /** The job's directory on the host (inside the migration's directory, so cleanup takes it). */
    readonly dir: string,
  ) {}

  /** Starts argv, bounded by `timeoutS` on the host. Safe to repeat after a dropped connection: a second start is refused by the helper and read as started. */
  async start(argv: readonly string[], timeoutS: number): Promise<void> {
    const r = await this.host.exec([JOB, 'start', this.dir, '--', 'timeout', '-k', '5', String(timeoutS), ...argv], { timeoutS: 30, idempotent: true });
    if (r.code === 0 || r.code === 3) return;
    throw new FerryError(ErrorCode.CommandFailed, `could not start ${argv[0]} on ${this.host.name}: ${(r.stderr || r.stdout).trim()}`, { details: { host: this.host.name, argv: [...argv] } });
  }

  /**
   * Starts argv and waits up to `waitS` in the same round trip (short jobs cost one exec over a
   * slow link); repeated after a dropped connection, it only waits. Returns the state then.
   */
  async run(argv: readonly string[], timeoutS: number, waitS: number): Promise<JobState> {
    const r = await this.host.exec([JOB, 'run', this.dir, String(waitS), '--', 'timeout', '-k', '5', String(timeoutS), ...argv], { timeoutS: waitS + 60, idempotent: true });
    const s = parseJobState(r.stdout);
    if (s.state === 'unknown') {
      throw new FerryError(ErrorCode.CommandFailed, `could not start ${argv[0]} on ${this.host.name}: ${(r.stderr || r.stdout).trim()}`, { details: { host: this.host.name, argv: [...argv] } });
    }
    return s.state === 'output' ? { state: 'running' } : s;
  }

  async status(): Promise<JobState> {
    const r = await this.host.exec([JOB, 'status', this.dir], { timeoutS: 30, idempotent: true });
    const s = parseJobState(r.stdout);
    return s.state === 'output' ? { state: 'running' } : s;
  }

  /**
   * Waits until the job ends, up to `timeoutS`, asking in short slices so that a dropped
   * connection is noticed (and ridden out by a reconnect) while the job runs on.
   */
  async wait(timeoutS: number): Promise<JobState> {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const slice = Math.max(1, Math.min(15, Math.ceil((deadline - Date.now()) / 1000)));
      const r = await this.host.exec([JOB, 'wait', this.dir, String(slice)], { timeoutS: slice + 30, idempotent: true });
      const s = parseJobState(r.stdout);
      if (s.state !== 'running' && s.state !== 'output') return s;
      if (Date.now() >= deadline) return { state: 'running' };
    }
  }

  /** Waits until the job writes to its stdout (CRIU's status byte), ends, or `timeoutS` pass. */
  async waitOutput(timeoutS: number): Promise<JobState | { state: 'output' }> {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const slice = Math.max(1, Math.min(15, Math.ceil((deadline - Date.now()) / 1000)));
      const r = await this.host.exec([JOB, 'wait-output', this.dir, String(slice)], { timeoutS: slice + 30, idempotent: true });
      const s = parseJobState(r.stdout);
      if (s.state !== 'running') return s;
      if (Date.now() >= deadline) return s;
    }
  }

  /** The job's own stdout and stderr (their last lines). */
  async output(): Promise<{ stdout: string; stderr: string }> {
    const [o, e] = await Promise.all([
      this.host.exec(['tail', '-c', '65536', `${this.dir}/stdout`], { idempotent: true }),
      this.host.exec(['tail', '-c', '65536', `${this.dir}/stderr`], { idempotent: true }),
    ]);
    return { stdout: o.code === 0 ? o.stdout : '', stderr: e.code === 0 ? e.stdout : '' };
  }

  /** Signals the job's whole process group. */
  async kill(signal: 'TERM' | 'KILL'): Promise<void> {
    await this.host.exec([JOB, 'kill', this.dir, signal], { timeoutS: 30, idempotent: true });
  }
}
