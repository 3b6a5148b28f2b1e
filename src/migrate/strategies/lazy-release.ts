import { ErrorCode, FerryError } from '../../errors.ts';
import { HostJob } from '../../hosts/jobs.ts';
import type { RemoteHost } from '../../hosts/RemoteHost.ts';
import { runcFreezer } from '../commands.ts';
import { JOBS, jobDir, type JobWatch } from '../job-run.ts';

/**
 * Ends a lazy dump that still serves pages, so that its frozen tasks can run on from the freeze.
 * They are held under ptrace with all their memory (the target only ever received copies), and a
 * SIGKILL of the dumping CRIU releases them intact (measured: the counter resumes). They stay
 * frozen by the container's cgroup (see {@link holdLazySource}) until the rollback resumes them,
 * after the target's copy is gone. Never end it the other way: when the lazy page server's client
 * simply disconnects, CRIU takes the transfer as complete and kills the tasks. So this runs before
 * anything touches the target's daemon or copy.
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

/**
 * Freezes the source's cgroup while its lazy dump serves pages. CRIU holds the tasks under ptrace,
 * but when serving fails (the link to the target broke) it lets them run on by itself, at once,
 * while the target's copy still runs: two running copies until the rollback removes the target's.
 * Frozen by the cgroup, they wait instead, and the rollback resumes them once the target's copy is
 * gone. When serving succeeds, CRIU kills them and waits for them to die, which they do only when
 * thawed: {@link thawServedSource}.
 */
export async function holdLazySource(source: RemoteHost, name: string): Promise<void> {
  const r = await source.exec(runcFreezer('pause', name), { timeoutS: 60, idempotent: true });
  if (r.code !== 0) throw new FerryError(ErrorCode.CommandFailed, `could not freeze ${name}'s cgroup on ${source.name} while its lazy dump serves pages: ${r.stderr.trim()}`, { details: { host: source.name } });
}

/** CRIU's own words in the dump log once every page was served (its tasks are killed next). */
const LAZY_SERVED_LINE = 'Lazy pages transfer finished successfully';

/** Reads the source's dump log: has its lazy page server finished? */
export async function readLazyServed(source: RemoteHost, migrationDir: string): Promise<boolean> {
  const r = await source.exec(['grep', '-c', '-F', LAZY_SERVED_LINE, `${migrationDir}/work/dump.log`], { idempotent: true });
  return r.code === 0 && Number(r.stdout.trim()) > 0;
}

/**
 * Every page was served and CRIU killed the source's tasks: thaw the cgroup so they die and the
 * dump ends (the target holds all the memory now).
 */
export async function thawServedSource(source: RemoteHost, name: string): Promise<void> {
  await source.exec(runcFreezer('resume', name), { timeoutS: 60, idempotent: true });
}

/**
 * Until the source's lazy dump ends (at most `timeoutS`), thawing its tasks once every page was
 * served so that the dump can end. `watch`, asked while pages are still being served, ends the
 * wait with its error (the target's daemon gone: nobody will fetch them).
 */
export async function waitLazyDumpEnd(source: RemoteHost, migrationDir: string, name: string, timeoutS: number, watch?: JobWatch): ReturnType<HostJob['wait']> {
  const job = new HostJob(source, jobDir(migrationDir, JOBS.dump));
  const deadline = Date.now() + timeoutS * 1000;
  let served = false;
  for (;;) {
    const st = await job.wait(served ? 10 : 2);
    if (st.state !== 'running' || Date.now() >= deadline) return st;
    served ||= await readLazyServed(source, migrationDir);
    if (served) {
      // Every page is on the target: CRIU has killed the source's tasks and waits for them to
      // die, which they do once their cgroup thaws. Thawed again while the dump lasts: a thaw
      // lost with a dropped connection would leave it waiting for the whole deadline.
      await thawServedSource(source, name);
      continue;
    }
    const failure = await watch?.();
    if (failure) throw failure;
  }
}
