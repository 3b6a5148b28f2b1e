import { ErrorCode, FerryError } from '../errors.ts';
import { HostJob } from '../hosts/jobs.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';

/** The directory of a migration's durable job on a host. */
export const jobDir = (migrationDir: string, name: string) => `${migrationDir}/jobs/${name}`;

/** Names the reconciler looks for: the final dump on the source, the restores. */
export const JOBS = { dump: 'dump', restore: 'restore', restoreSource: 'restore-source' } as const;

export interface JobOutcome {
  rc: number;
  /** The job's stderr, read only when it failed (over a slow link every read is a round trip). */
  stderr: string;
}

/** Looked at while a job runs: an error ends the job (SIGKILL) and is thrown; null lets it run on. */
export type JobWatch = () => Promise<FerryError | null>;

/**
 * Runs a decisive step (a dump, a restore) as a durable job: it goes on if our connection drops,
 * and its exit code is read after a reconnect instead of being lost with the channel.
 */
export async function runJob(host: RemoteHost, dir: string, argv: readonly string[], timeoutS: number, watch?: JobWatch): Promise<JobOutcome> {
  const job = new HostJob(host, dir);
  let st = await job.run(argv, timeoutS, Math.min(timeoutS, 15));
  if (st.state === 'running' && !watch) st = await job.wait(timeoutS + 30);
  const deadline = Date.now() + (timeoutS + 30) * 1000;
  while (watch && st.state === 'running' && Date.now() < deadline) {
    const failure = await watch();
    if (failure) {
      await job.kill('KILL');
      throw failure;
    }
    st = await job.wait(10);
  }
  if (st.state === 'rc') return { rc: st.rc, stderr: st.rc === 0 ? '' : (await job.output()).stderr };
  if (st.state === 'running') {
    await job.kill('KILL');
    throw new FerryError(ErrorCode.CommandTimedOut, `${argv.slice(0, 3).join(' ')} on ${host.name} did not end within ${timeoutS} s`, { details: { host: host.name } });
  }
  throw new FerryError(ErrorCode.CommandFailed, `${argv.slice(0, 3).join(' ')} on ${host.name} ended without an exit code (${st.state})`, { details: { host: host.name } });
}
