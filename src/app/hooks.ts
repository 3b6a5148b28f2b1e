/**
 * A team's own playbooks around a migration: `pre_migrate` (drain a load balancer, page someone),
 * `post_migrate` (update DNS), `on_rollback` (undo the drain). The inventory names them per host,
 * usually on an environment's group (`ferry_pre_migrate: /etc/ferry/hooks/drain.yml` in
 * group_vars/env_prod.yml); Ferry runs them on the controller with `ansible-playbook` against the
 * same inventory, with the migration as extra variables.
 *
 * - A failing `pre_migrate` stops the migration before anything is touched (`ferry_hook_failed`).
 * - A failing `post_migrate` is a warning in the report: it never undoes a move that succeeded.
 * - `on_rollback` runs whenever the migration ends without moving the container once the
 *   `pre_migrate` hooks have passed: a rollback, a refusal in the engine's preflight, a cancel, a
 *   failed rollback. Its failure is a warning (or, without a report, added to the error).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, isFerryError, toFerryError, type SerializedError } from '../errors.ts';
import { findHost, HOOK_NAMES, type HookName, type HostsFile } from '../hosts/inventory.ts';
import { runPlaybook } from '../infra/ansible.ts';
import type { MigrationReport } from '../migrate/report.ts';
import type { MigrationRequest } from '../migrate/request.ts';
import { DEFAULT_BATCH_LIMITS, streamBatches, type BatchLimits } from '../util/line-batches.ts';
import { clipText } from '../util/printable.ts';
import { loadHosts } from './hosts.ts';

export { HOOK_NAMES, type HookName } from '../hosts/inventory.ts';

/** A batch of a hook's output, as it comes: for the job's thread, or the CLI's stderr. */
export interface HookOutput {
  hook: HookName;
  lines: string[];
}

/** One playbook to run at one hook. */
export interface HookPlaybook {
  hook: HookName;
  /** Absolute path. */
  playbook: string;
  /** The hosts whose variables name it (source first). */
  namedBy: string[];
}

export type HookPlan = Record<HookName, HookPlaybook[]>;

/** What the hooks need of a migration run (MigrationRun has all of it). */
export interface HookRun {
  config: FerryConfig;
  /** @defaultValue loaded from the configuration */
  hosts?: HostsFile;
  /** Cancels a `pre_migrate` hook (up to the freeze, as the migration); later hooks always run to their end or their timeout. */
  signal?: AbortSignal;
  /** Hook output in batches. */
  onHookOutput?: (o: HookOutput) => void;
  /** @defaultValue {@link DEFAULT_BATCH_LIMITS} */
  hookBatches?: BatchLimits;
}

/**
 * The hooks of a migration (pure): those the source's variables name, then the target's, each
 * playbook once per hook (two hosts of one environment name the same ones). Relative paths are
 * relative to `inventoryDir` (the inventory directory, or the directory of the inventory file).
 */
export function resolveHooks(hosts: HostsFile, req: Pick<MigrationRequest, 'from' | 'to'>, inventoryDir: string | null): HookPlan {
  const plan: HookPlan = { pre_migrate: [], post_migrate: [], on_rollback: [] };
  for (const host of [findHost(hosts, req.from), findHost(hosts, req.to)]) {
    for (const hook of HOOK_NAMES) {
      const named = host.hooks?.[hook];
      if (named === undefined) continue;
      if (!path.isAbsolute(named) && inventoryDir === null) {
        throw new FerryError(
          ErrorCode.ConfigInvalid,
          `ferry_${hook} of ${host.name} is a relative path (${JSON.stringify(named)}), but the inventory is not a file or directory to resolve it against: give an absolute path`,
        );
      }
      const playbook = path.resolve(inventoryDir ?? '/', named);
      const same = plan[hook].find((p) => p.playbook === playbook);
      if (same) same.namedBy.push(host.name);
      else plan[hook].push({ hook, playbook, namedBy: [host.name] });
    }
  }
  return plan;
}

/** The directory relative hook paths start from: the inventory itself when it is a directory, else the file's directory; null for a host list (`a,b,`) or a plugin that is no file. */
export async function inventoryDir(source: string): Promise<string | null> {
  const s = await stat(source).catch(() => null);
  if (!s) return null;
  return s.isDirectory() ? source : path.dirname(source);
}

/**
 * The extra variables a hook gets (pure). Prefixed `ferry_`: extra variables override every other
 * variable in Ansible, so bare names such as `container` or `source` would clobber the team's own.
 */
export function hookVars(hook: HookName, req: MigrationRequest, end: { report?: MigrationReport; error?: SerializedError } = {}): Record<string, unknown> {
  const vars: Record<string, unknown> = {
    ferry_hook: hook,
    ferry_migration_id: req.id,
    ferry_container: req.container,
    ferry_source: req.from,
    ferry_target: req.to,
    // Before the migration, the method asked for (maybe `auto`); after it, the one that ran.
    ferry_method: end.report?.method ?? req.method,
    ferry_requested_by: req.requestedBy ?? '',
  };
  if (hook !== 'pre_migrate') {
    vars.ferry_outcome = end.report?.outcome ?? 'failed';
    vars.ferry_report = end.report ?? null;
    if (end.error) vars.ferry_error = end.error;
  }
  return vars;
}

const TASK_FAILURE = /^(fatal|failed): \[|^ERROR! |^\[ERROR\]: /;
const NOISE = /^(PLAY RECAP|PLAY \[|TASK \[|RUNNING HANDLER \[|\S+\s+: ok=\d+)/;

/** What to quote of a failed hook (pure): its failing tasks' lines, else its last meaningful lines; clipped. */
export function hookFailureLines(tail: readonly string[]): string[] {
  const failed = tail.filter((l) => TASK_FAILURE.test(l.trim()));
  const picked = failed.length ? failed.slice(-3) : tail.filter((l) => !NOISE.test(l.trim()) && !/^\*+$/.test(l.trim())).slice(-3);
  return picked.map((l) => clipText(l.trim(), 500));
}

type HookResult = { ok: true } | { ok: false; error: FerryError; summary: string };

/** Where and how hooks run. */
export interface HookContext {
  config: FerryConfig;
  /** The inventory ansible-playbook gets (`-i`): the one the hosts came from. */
  inventory: string;
  /** Cancels `pre_migrate` hooks only. */
  signal?: AbortSignal;
  onHookOutput?: (o: HookOutput) => void;
  /** @defaultValue {@link DEFAULT_BATCH_LIMITS} */
  batches?: BatchLimits;
}

/** Runs one hook playbook, its output streamed in batches; never throws for the playbook's own failure (the caller decides what it means), only for a cancel. */
async function runHook(h: HookPlaybook, vars: Record<string, unknown>, ctx: HookContext): Promise<HookResult> {
  const stream = streamBatches((lines) => ctx.onHookOutput?.({ hook: h.hook, lines }), ctx.batches ?? DEFAULT_BATCH_LIMITS);
  stream.push(`ferry: running the ${h.hook} hook ${h.playbook} (named by ${h.namedBy.join(', ')})`);
  try {
    await runPlaybook(h.playbook, ctx.inventory, {
      dataVars: vars,
      timeoutMs: ctx.config.hookTimeoutS * 1000,
      cancelSignal: h.hook === 'pre_migrate' ? ctx.signal : undefined,
      vaultPasswordFile: ctx.config.vaultPasswordFile,
      onLine: (l) => stream.push(l),
    });
    stream.push(`ferry: the ${h.hook} hook passed`);
    return { ok: true };
  } catch (e) {
    const error = toFerryError(e);
    if (error.code === ErrorCode.Cancelled) throw error;
    const tail = Array.isArray(error.details?.tail) ? (error.details.tail as string[]) : [];
    const how = error.code === ErrorCode.CommandTimedOut ? `timed out after ${ctx.config.hookTimeoutS} s` : `failed (exit ${String(error.details?.code ?? '?')})`;
    const lines = hookFailureLines(tail);
    stream.push(`ferry: the ${h.hook} hook ${how}`);
    return { ok: false, error, summary: `the ${h.hook} hook ${h.playbook} ${how}${lines.length ? `: ${lines.join(' | ')}` : ''}` };
  } finally {
    stream.end();
  }
}

/**
 * Runs the `pre_migrate` hooks in order; the first that fails stops them and throws
 * `ferry_hook_failed` with its output's last lines (`details.tail`); a cancel throws `ferry_cancelled`.
 */
export async function runPreHooks(hooks: readonly HookPlaybook[], req: MigrationRequest, ctx: HookContext): Promise<void> {
  for (const h of hooks) {
    const r = await runHook(h, hookVars('pre_migrate', req), ctx).catch((e: unknown) => {
      if (!isFerryError(e, ErrorCode.Cancelled)) throw e;
      throw new FerryError(ErrorCode.Cancelled, `migration ${req.id} cancelled during its pre_migrate hook: nothing was frozen, ${req.container} was not touched`, { original: e });
    });
    if (!r.ok) {
      throw new FerryError(ErrorCode.HookFailed, `${r.summary}; so Ferry stopped before touching ${req.container} (nothing was frozen; it runs where it ran, on ${req.from})`, {
        original: r.error,
        details: { hook: h.hook, playbook: h.playbook, tail: r.error.details?.tail ?? [] },
      });
    }
  }
}

/** Runs hooks after the migration (post_migrate or on_rollback), every one whatever the others do; returns what failed, in words. */
export async function runAfterHooks(hooks: readonly HookPlaybook[], vars: Record<string, unknown>, ctx: HookContext): Promise<string[]> {
  const failures: string[] = [];
  for (const h of hooks) {
    const r = await runHook(h, vars, ctx);
    if (!r.ok) failures.push(r.summary);
  }
  return failures;
}

/** The report with the after-hooks' failures as warnings (pure): a failed post_migrate says the move stands. */
export function withHookWarnings(report: MigrationReport, failures: readonly string[]): MigrationReport {
  if (!failures.length) return report;
  const stands = report.outcome === 'migrated' ? '; the move stands' : '';
  return { ...report, warnings: [...(report.warnings ?? []), ...failures.map((f) => `${f}${stands}`)] };
}

/**
 * Runs `inner` (the migration itself) between the hooks the inventory names for this request:
 * `pre_migrate` before it, `post_migrate` after a move, `on_rollback` after anything else. With no
 * hooks it is exactly `inner`. The hosts are loaded once and handed to `inner`.
 */
export async function runWithHooks<R extends HookRun>(req: MigrationRequest, run: R, inner: (req: MigrationRequest, run: R & { hosts: HostsFile }) => Promise<MigrationReport>): Promise<MigrationReport> {
  const hosts = run.hosts ?? (await loadHosts(run.config));
  const withHosts = { ...run, hosts };
  const plan = resolveHooks(hosts, req, await inventoryDir(hosts.inventoryFile));
  if (!HOOK_NAMES.some((h) => plan[h].length)) return inner(req, withHosts);
  const ctx: HookContext = { config: run.config, inventory: hosts.inventoryFile, signal: run.signal, onHookOutput: run.onHookOutput, batches: run.hookBatches };

  await runPreHooks(plan.pre_migrate, req, ctx);
  let report: MigrationReport;
  try {
    report = await inner(req, withHosts);
  } catch (e) {
    const err = toFerryError(e);
    const failures = await runAfterHooks(plan.on_rollback, hookVars('on_rollback', req, { error: err.toJSON() }), ctx);
    if (!failures.length) throw e;
    throw new FerryError(err.code, `${err.message}; and ${failures.join('; ')}`, { original: e, details: { ...err.details, hookFailures: failures } });
  }
  const hook = report.outcome === 'migrated' ? 'post_migrate' : 'on_rollback';
  return withHookWarnings(report, await runAfterHooks(plan[hook], hookVars(hook, req, { report }), ctx));
}
