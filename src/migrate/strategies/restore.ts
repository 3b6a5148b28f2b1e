import { ErrorCode, FerryError } from '../../errors.ts';
import type { RemoteHost } from '../../hosts/RemoteHost.ts';
import { HOST_PATHS } from '../../hosts/paths.ts';
import { runcRestore } from '../commands.ts';
import { runJob, type JobWatch } from '../job-run.ts';

/**
 * runc restore on a host, detached, with CRIU's log kept. On failure the error carries CRIU's
 * own reason from restore.log (runc itself only says "criu failed").
 */
export async function restoreOn(host: RemoteHost, opts: { name: string; bundle: string; imageDir: string; workDir: string; lazy: boolean; job: string; watch?: JobWatch }): Promise<void> {
  const log = `${opts.workDir}/runc-restore.log`;
  const argv = runcRestore({ name: opts.name, bundle: opts.bundle, imageDir: opts.imageDir, workDir: opts.workDir, pidFile: `${HOST_PATHS.work}/${opts.name}.pid`, lazyPages: opts.lazy, log });
  // A durable job: if our connection drops mid-restore, its outcome is still read afterwards.
  const r = await runJob(host, opts.job, argv, 300, opts.watch);
  if (r.rc !== 0) {
    const criu = await host.exec(['tail', '-n', '300', `${opts.workDir}/restore.log`]);
    const runcLog = await host.exec(['tail', '-n', '2', log]);
    throw criuFailure(ErrorCode.CriuRestoreFailed, `runc restore failed on ${host.name} (exit ${r.rc})`, criuErrors(criu.stdout) || runcLog.stdout.trim(), host.name);
  }
}

/** A CRIU failure: the message ends with CRIU's own words, which also travel in `details.criuLog`. */
export function criuFailure(code: ErrorCode, what: string, criuLog: string, host: string): FerryError {
  const excerpt = criuLog.trim();
  return new FerryError(code, excerpt ? `${what}: ${excerpt}` : what, { details: { host, criuLog: excerpt } });
}

/** Reads the tail of a CRIU log and raises the failure with its error lines. */
export async function criuLogFailure(host: RemoteHost, code: ErrorCode, what: string, logFile: string, fallback = ''): Promise<FerryError> {
  const log = await host.exec(['tail', '-n', '300', logFile]);
  return criuFailure(code, what, criuErrors(log.stdout) || fallback.trim() || log.stdout.trim().split('\n').slice(-3).join('\n'), host.name);
}

/** The last few error lines of a CRIU log, the harmless RLIMIT_NOFILE complaint left out. */
export function criuErrors(log: string, max = 3): string {
  return log
    .split('\n')
    .filter((l) => /\bError\b|\berror\b/.test(l) && !/RLIMIT_NOFILE/.test(l))
    .slice(-max)
    .join('\n')
    .trim();
}
