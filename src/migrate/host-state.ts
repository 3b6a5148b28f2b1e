import { ErrorCode, isFerryError } from '../errors.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import type { ContainerState } from './journal/record.ts';

const UNREACHABLE = new Set<string>([ErrorCode.SshConnectFailed, ErrorCode.SshConnectionLost, ErrorCode.CommandTimedOut, ErrorCode.SshHostKeyMismatch]);

/** The state letter of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
export function procState(stat: string): string | null {
  return /\)\s+([A-Za-z])\s/.exec(stat)?.[1] ?? null;
}

/**
 * A container runc lists, from its status and its init's /proc stat line (null: none to read):
 * `frozen` for tasks runc calls running but CRIU holds stopped under ptrace.
 */
export function listedState(status: string, stat: string | null): 'running' | 'paused' | 'frozen' | 'stopped' {
  if (status === 'paused') return 'paused';
  if (status !== 'running') return 'stopped';
  const s = stat === null ? null : procState(stat);
  if (s === null || s === 'Z' || s === 'X') return 'stopped';
  return s === 't' || s === 'T' ? 'frozen' : 'running';
}

/**
 * Where a container stands on a host, as the rule book needs it: `running` only when its tasks
 * really run. runc says `running` for tasks that CRIU holds frozen under ptrace (a dump in
 * progress, a lazy dump serving pages): those are `frozen`. `unknown` when the host cannot be reached.
 */
export async function containerState(host: RemoteHost, name: string): Promise<ContainerState> {
  try {
    const r = await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'state', name], { timeoutS: 30, idempotent: true });
    if (r.code !== 0) return 'absent';
    const st = JSON.parse(r.stdout) as { status: string; pid: number };
    if (st.status !== 'running') return listedState(st.status, null);
    const stat = await host.exec(['cat', `/proc/${st.pid}/stat`], { timeoutS: 30, idempotent: true });
    return listedState(st.status, stat.code === 0 ? stat.stdout : null);
  } catch (e) {
    if (isFerryError(e) && UNREACHABLE.has(e.code)) return 'unknown';
    throw e;
  }
}
