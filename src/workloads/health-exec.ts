import { ErrorCode, isFerryError } from '../errors.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { HealthSpec } from '../migrate/health.ts';

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
