import path from 'node:path';
import { REPO_ROOT, pkiDirOf } from '../config.ts';
import { ErrorCode, FerryError, isFerryError } from '../errors.ts';
import { runLocal, type LocalRunOptions } from '../util/run-local.ts';

export interface PlaybookOptions extends LocalRunOptions {
  limit?: string;
  /** Extra variables for the playbook, as `--extra-vars` JSON (Ansible may template their strings: only Ferry's own values here). */
  extraVars?: Record<string, string | number | boolean>;
  /**
   * Extra variables Ansible must never template: every string in them goes as `!unsafe`, so text
   * from outside (a report, an error message) that holds `{{ … }}` stays text. Any JSON value.
   */
  dataVars?: Record<string, unknown>;
  /** `--check`: report what would change, change nothing. */
  check?: boolean;
  /** `--vault-password-file` for an inventory with vaulted variables. */
  vaultPasswordFile?: string;
  /**
   * Limit for the whole run; past it ansible-playbook is stopped (SIGTERM, which ends its workers,
   * then SIGKILL 5 s later) and the run fails with `ferry_command_timed_out`.
   * @defaultValue {@link DEFAULT_PLAYBOOK_TIMEOUT_MS}
   */
  timeoutMs?: number;
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

export interface PlaybookResult {
  recap: Record<string, HostRecap>;
  output: string;
}

export const PLAYBOOK_DIR = path.join(REPO_ROOT, 'playbooks');

/** No playbook runs unbounded: a hung SSH connection or a task waiting forever must end. Provisioning a fresh cloud host (a CRIU build) fits well within it. */
export const DEFAULT_PLAYBOOK_TIMEOUT_MS = 30 * 60_000;

/** Lines of output kept for the error of a failed or timed-out run. */
const TAIL_LINES = 20;

/**
 * Runs a playbook: one of Ferry's own (a name relative to playbooks/) or any other (an absolute
 * path: a team's hook), on `inventory`. Extra vars go as JSON arguments, never through a shell.
 * A failure or a timeout throws a coded error whose message names the playbook and ends with
 * its last lines of output (`details.tail` holds them as a list).
 */
export async function runPlaybook(playbook: string, inventory: string, opts: PlaybookOptions = {}): Promise<PlaybookResult> {
  const file = path.isAbsolute(playbook) ? playbook : path.join(PLAYBOOK_DIR, playbook);
  const args = playbookArgs(file, inventory, opts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PLAYBOOK_TIMEOUT_MS;
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    opts.onLine?.(line);
  };
  try {
    const r = await runLocal('ansible-playbook', args, { ...opts, timeoutMs, onLine, env: { ...playbookEnv(), ...opts.env } });
    return { recap: parseRecap(r.stdout), output: r.stdout };
  } catch (e) {
    // A missing ansible-playbook says so itself (runLocal): there is no playbook output to add.
    if (!isFerryError(e) || e.code === ErrorCode.Cancelled || e.code === ErrorCode.ToolMissing) throw e;
    const details = { ...e.details, playbook: file, tail: [...tail] };
    const what = e.code === ErrorCode.CommandTimedOut ? `timed out after ${fmtMs(timeoutMs)}` : `failed (exit ${String(e.details?.code ?? '?')})`;
    throw new FerryError(e.code, `ansible-playbook ${file} ${what}${tail.length ? `:\n${tail.join('\n')}` : ''}`, { original: e, details });
  }
}

/** The argument vector of one run (pure). */
export function playbookArgs(file: string, inventory: string, opts: Pick<PlaybookOptions, 'limit' | 'extraVars' | 'dataVars' | 'check' | 'vaultPasswordFile'>): string[] {
  const args = ['-i', inventory, file];
  if (opts.limit) args.push('--limit', opts.limit);
  if (opts.extraVars) args.push('--extra-vars', JSON.stringify(opts.extraVars));
  if (opts.dataVars) args.push('--extra-vars', unsafeYaml(opts.dataVars));
  if (opts.vaultPasswordFile) args.push('--vault-password-file', opts.vaultPasswordFile);
  if (opts.check) args.push('--check');
  return args;
}

/**
 * A JSON value as YAML flow text with every string tagged `!unsafe`, which Ansible never templates.
 * A JSON string is a valid YAML double-quoted scalar, so only the tags are added; `--extra-vars`
 * parses text starting with `{` as YAML.
 */
export function unsafeYaml(value: unknown): string {
  if (typeof value === 'string') return `!unsafe ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return `[${value.map(unsafeYaml).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${unsafeYaml(v)}`).join(', ')}}`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  return 'null';
}

const PLAYBOOK_ENV: Record<string, string> = {
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_FORCE_COLOR: '0',
  ANSIBLE_HOST_KEY_CHECKING: 'True',
  ANSIBLE_RETRY_FILES_ENABLED: '0',
  ANSIBLE_PIPELINING: '1',
  ANSIBLE_LOCALHOST_WARNING: '0',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
  // Output is streamed line by line (hooks' output goes to chat as it comes).
  PYTHONUNBUFFERED: '1',
};

/** The environment of every playbook run: PLAYBOOK_ENV, and where provision.yml finds the certificates (src/infra/pki.ts). */
function playbookEnv(): Record<string, string> {
  return { ...PLAYBOOK_ENV, FERRY_PKI_DIR: pkiDirOf(process.env) };
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Parses PLAY RECAP lines: `lab-1 : ok=5 changed=0 unreachable=0 failed=0 ...`. */
export function parseRecap(output: string): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of output.slice(start).split('\n').slice(1)) {
    const m = /^(\S+)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
    recap[m[1]!] = { ok: kv.ok ?? 0, changed: kv.changed ?? 0, unreachable: kv.unreachable ?? 0, failed: kv.failed ?? 0 };
  }
  return recap;
}
