import { ErrorCode, FerryError } from '../../errors.ts';
import { HostJob } from '../../hosts/jobs.ts';
import type { RemoteHost } from '../../hosts/RemoteHost.ts';
import { JOBS, jobDir } from '../job-run.ts';

/**
 * Ends a lazy dump that still serves pages, so that its frozen tasks run on from the freeze. They
 * are held under ptrace with all their memory (the target only ever received copies), and a
 * SIGKILL of the dumping CRIU releases them intact (measured: the counter resumes). Never end it
 * the other way: when the lazy page server's client simply disconnects, CRIU takes the transfer as
 * complete and kills the tasks. So this runs before anything touches the target's daemon or copy.
 */
export async function releaseLazyDump(source: RemoteHost, migrationDir: string, imageDir: string): Promise<void> {
  // runc's own process (anchored: not the `timeout` wrapper) is CRIU's parent.
  const runcPids = await source.exec(['pgrep', '-f', `^runc --root [^ ]+ checkpoint --image-path ${imageDir} `], { idempotent: true });
  for (const pid of runcPids.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()))) {
    await source.exec(['pkill', '-KILL', '-P', pid.trim()], { idempotent: true });
  }
  const st = await new HostJob(source, jobDir(migrationDir, JOBS.dump)).wait(30);
  if (st.state === 'running') throw new FerryError(ErrorCode.RollbackFailed, `could not stop the lazy dump on ${source.name}`, { details: { host: source.name } });
}
