import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import type { ExecOptions, ExecResult } from '../../src/hosts/RemoteHost.ts';
import type { ExecHost } from '../../src/workloads/preflight-read.ts';

/**
 * Runs the same argument arrays RemoteHost.exec sends over SSH, on this machine. Not a stand-in
 * for an external system: it is our code reading this machine's own /proc (and running its own
 * runc), so the host-reading functions meet real data.
 */
export const localHost: ExecHost = {
  name: 'local',
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false, cwd: opts.cwd, input: opts.stdin, stdin: opts.stdin === undefined ? 'ignore' : 'pipe', timeout: (opts.timeoutS ?? 600) * 1000 });
    return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), code: typeof r.exitCode === 'number' ? r.exitCode : 255 };
  },
};

/** Why a test that needs root and these programs cannot run here, or null. */
export function missing(programs: readonly string[], needRoot = true): string | null {
  if (needRoot && process.getuid?.() !== 0) return 'needs root (runc, cgroups, network namespaces, CRIU)';
  const absent = programs.filter((p) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', p], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return absent.length ? `needs ${absent.join(', ')} on PATH (scripts/setup.sh installs them)` : null;
}

/** The CRIU version on PATH as major*100+minor, or 0. */
export function criuVersion(): number {
  try {
    const m = /Version:\s*(\d+)\.(\d+)/.exec(execFileSync('criu', ['--version'], { encoding: 'utf8' }));
    return m ? Number(m[1]) * 100 + Number(m[2]) : 0;
  } catch {
    return 0;
  }
}
