import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { HostJob } from '../hosts/jobs.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { logger } from '../log.ts';
import { newContextPaths } from './context.ts';
import { removeContainer, umountUnder } from './debris.ts';
import type { MigrationEvents } from './events.ts';
import { describeHealth, healthSpecFromConfig, healthTarget, waitHealthy, type HealthSpec } from './health.ts';
import { revokeMigrationGrants } from './firewall-host.ts';
import { HostLink } from './HostLink.ts';
import { runcFreezer } from './commands.ts';
import { containerState } from './host-state.ts';
import { JOBS, jobDir } from './job-run.ts';
import type { Journal } from './journal/Journal.ts';
import { decide, type Decision, type JournalRecord, type Observed } from './journal/record.ts';
import { readLazyServed, releaseLazyDump, thawServedSource, waitLazyDumpEnd } from './strategies/lazy-release.ts';
import { restoreOn } from './strategies/restore.ts';
import type { TrafficHooks } from './traffic-hooks.ts';

export interface ReconcileDeps {
  config: FerryConfig;
  source: RemoteHost;
  target: RemoteHost;
  journal?: Journal;
  events?: MigrationEvents;
  /** How clients reach the container (the engine's own switch, or a plain one rebuilt for recovery). */
  traffic?: TrafficHooks;
  /** Known already (the engine read it in preflight); otherwise read from a bundle on either host. */
  health?: HealthSpec;
}

export interface ReconcileResult {
  outcome: 'migrated' | 'rolled-back' | 'failed';
  /** Where the container runs now; null when Ferry cannot tell (a host unreachable). */
  runsOn: string | null;
  /** What was done, in words, in order. */
  steps: string[];
  /** Why it failed, when it did. */
  error?: string;
  /** True when nothing could be decided now (a host unreachable): the record stays open for a later try. */
  retry?: boolean;
}

/**
 * Finishes or undoes a migration from what the hosts show: the same rule book (journal/record.ts
 * `decide`) for the engine's own rollback and for recovery after a crash. Its invariants: the
 * target's copy is confirmed gone before the source's is brought back; once traffic switched to a
 * healthy target nothing is rolled back; cleanup is best effort; a complete image set is never
 * deleted while the container runs nowhere.
 */
export async function reconcile(rec: JournalRecord, mode: 'rollback' | 'recover', d: ReconcileDeps): Promise<ReconcileResult> {
  const steps: string[] = [];
  const say = (m: string) => {
    steps.push(m);
    d.events?.emitEvent({ type: 'info', message: m });
    logger().info({ migration: rec.id, container: rec.container }, m);
  };
  const { dir, bundle } = newContextPaths(rec.id, rec.container);
  const health = d.health ?? (await readHealth(d, rec, bundle));
  for (let round = 0; round < 6; round++) {
    const o = await observe(rec, d, health);
    const decision = decide(rec, o, mode);
    logger().info({ migration: rec.id, observed: o, decision }, 'reconcile');
    switch (decision.action) {
      case 'wait-dump': {
        say(`${decision.why}: waiting for it to end`);
        await new HostJob(d.source, jobDir(dir, JOBS.dump)).wait(d.config.commandTimeoutS);
        continue;
      }
      case 'wait-restore': {
        say(`${decision.why}: waiting for it to end`);
        await new HostJob(d.target, jobDir(dir, JOBS.restore)).wait(d.config.commandTimeoutS);
        continue;
      }
      case 'pause-target': {
        say(decision.why);
        const r = await d.target.exec(runcFreezer('pause', rec.container), { timeoutS: 60, idempotent: true });
        if (r.code !== 0 && (await containerState(d.target, rec.container)) === 'running') {
          throw new FerryError(ErrorCode.RollbackFailed, `could not freeze ${rec.container}'s copy on ${rec.to} (${r.stderr.trim()}): not releasing it on ${rec.from}, so it never runs twice`, { details: { host: rec.to } });
        }
        continue;
      }
      case 'thaw-served-source': {
        say(decision.why);
        await thawServedSource(d.source, rec.container);
        await new HostJob(d.source, jobDir(dir, JOBS.dump)).wait(60);
        continue;
      }
      case 'release-lazy-dump': {
        say(decision.why);
        await releaseLazyDump(d.source, dir, `${dir}/img/final`);
        continue;
      }
      case 'finish':
        return finish(rec, d, decision, say, steps, health);
      case 'rollback-keep-source':
      case 'rollback-restore-source':
        return rollBack(rec, d, decision, say, steps, health);
      case 'keep-target': {
        say(decision.why);
        // The only copy: frozen before a release that then failed, it runs again.
        if ((await containerState(d.target, rec.container)) === 'paused') await d.target.exec(runcFreezer('resume', rec.container), { timeoutS: 60, idempotent: true });
        await d.traffic?.switchTo({ address: d.target.spec.address, port: portOf(health) }).catch((e) => say(`could not point traffic at ${rec.to}: ${errorMessage(e)}`));
        await d.journal?.finish('failed', rec.to, decision.why);
        return { outcome: 'failed', runsOn: rec.to, steps, error: decision.why };
      }
      case 'retry-later':
        say(`${decision.why}: nothing can be decided safely now`);
        return { outcome: 'failed', runsOn: null, steps, error: decision.why, retry: true };
      case 'lost': {
        say(decision.why);
        await d.journal?.finish('failed', null, decision.why);
        return { outcome: 'failed', runsOn: null, steps, error: `${decision.why}; images kept in ${dir} on both hosts` };
      }
    }
  }
  return { outcome: 'failed', runsOn: null, steps, error: 'the hosts did not settle after several rounds of reconciling', retry: true };
}

async function observe(rec: JournalRecord, d: ReconcileDeps, health: HealthSpec): Promise<Observed> {
  const { dir } = newContextPaths(rec.id, rec.container);
  const [source, target] = await Promise.all([containerState(d.source, rec.container), containerState(d.target, rec.container)]);
  const dump = await new HostJob(d.source, jobDir(dir, JOBS.dump)).status().catch(() => ({ state: 'unknown' as const }));
  const restore = target === 'unknown' ? undefined : await new HostJob(d.target, jobDir(dir, JOBS.restore)).status().catch(() => undefined);
  // A restored copy gets a short grace to answer (it may have just come up).
  const targetHealthy = target === 'running' ? (await waitHealthy(healthTarget(d.target, rec.container), health, 10)) !== null : null;
  const lazyServed = rec.traits.lazy && dump.state !== 'unknown' ? await readLazyServed(d.source, dir).catch(() => false) : false;
  return { source, target, targetHealthy, dump, ...(restore ? { restore } : {}), ...(lazyServed ? { lazyServed } : {}) };
}

async function finish(rec: JournalRecord, d: ReconcileDeps, decision: Decision, say: (m: string) => void, steps: string[], health: HealthSpec): Promise<ReconcileResult> {
  say(`${decision.why}: finishing the move`);
  const { dir } = newContextPaths(rec.id, rec.container);
  if (rec.traffic?.state !== 'switched') await d.traffic?.switchTo({ address: d.target.spec.address, port: portOf(health) });
  await d.journal?.advance('switched', rec.traffic ? { traffic: { ...rec.traffic, state: 'switched' } } : {});
  if (rec.traits.lazy) {
    // The target depends on the source until the last page has arrived.
    const st = await waitLazyDumpEnd(d.source, dir, rec.container, d.config.commandTimeoutS);
    if (st.state === 'rc' && st.rc === 0) say(`every page arrived on ${rec.to}`);
    else say(`the source's lazy page server ended ${st.state === 'rc' ? `with exit ${st.rc}` : st.state}: pages not yet moved are lost`);
  }
  await d.journal?.advance('cleaning');
  const warnings = await cleanup(rec, d, 'migrated');
  for (const w of warnings) say(w);
  await d.journal?.finish('migrated', rec.to);
  return { outcome: 'migrated', runsOn: rec.to, steps };
}

async function rollBack(rec: JournalRecord, d: ReconcileDeps, decision: Extract<Decision, { action: 'rollback-keep-source' | 'rollback-restore-source' }>, say: (m: string) => void, steps: string[], health: HealthSpec): Promise<ReconcileResult> {
  const { dir, bundle } = newContextPaths(rec.id, rec.container);
  const { source, target } = d;
  say(decision.why);
  // The target must not run it: remove any copy there, and confirm it is gone before the source's runs again.
  await removeContainer(target, rec.container);
  const left = await containerState(target, rec.container);
  if (left !== 'absent') {
    throw new FerryError(ErrorCode.RollbackFailed, `the copy of ${rec.container} on ${rec.to} could not be removed (${left}): not bringing it back on ${rec.from}, so it never runs twice`, { details: { host: rec.to } });
  }
  if (decision.action === 'rollback-keep-source') {
    if (decision.resume) {
      await source.run(runcFreezer('resume', rec.container), { idempotent: true });
      say(`${rec.container} resumed on ${rec.from}`);
    } else {
      say(`${rec.container} kept running on ${rec.from}`);
    }
  } else {
    if (rec.traits.pageServer) {
      // The pages went to the target: bring them back (only what the source lacks).
      const link = await HostLink.open(rec.id, source, target);
      try {
        await link.push(target, `${dir}/img`, `${dir}/img`);
      } finally {
        await link.close();
      }
      say(`pages brought back from ${rec.to}`);
    }
    await removeContainer(source, rec.container);
    await umountUnder(source, dir);
    await source.exec(['rm', '-rf', `${dir}/work/restore.log`, jobDir(dir, JOBS.restoreSource)], { idempotent: true });
    try {
      await restoreOn(source, { name: rec.container, bundle, imageDir: `${dir}/img/final`, workDir: `${dir}/work`, lazy: false, job: jobDir(dir, JOBS.restoreSource) });
    } catch (e) {
      throw new FerryError(ErrorCode.RollbackFailed, `restoring ${rec.container} on ${rec.from} failed: ${errorMessage(e)}; its images are kept in ${dir}`, { original: e, details: { host: rec.from } });
    }
    say(`${rec.container} restored on ${rec.from} from its images`);
  }
  const ok = await waitHealthy(healthTarget(source, rec.container), health, d.config.healthTimeoutS);
  if (ok === null) throw new FerryError(ErrorCode.RollbackFailed, `${rec.container} runs on ${rec.from} again but fails its health check (${describeHealth(health)})`, { details: { host: rec.from } });
  await d.traffic?.restore({ address: source.spec.address, port: portOf(health) }).catch((e) => say(`could not point traffic back at ${rec.from}: ${errorMessage(e)}`));
  const warnings = await cleanup(rec, d, 'rolled-back');
  for (const w of warnings) say(w);
  await d.journal?.finish('rolled-back', rec.from, decision.why);
  return { outcome: 'rolled-back', runsOn: rec.from, steps };
}

/**
 * Removes what the migration left, best effort: every step is tried, failures come back as
 * warnings. The side the container runs on keeps its bundle; the other loses it.
 */
export async function cleanup(rec: Pick<JournalRecord, 'id' | 'container' | 'from' | 'to'>, d: Pick<ReconcileDeps, 'source' | 'target'>, outcome: 'migrated' | 'rolled-back'): Promise<string[]> {
  const { dir, bundle } = newContextPaths(rec.id, rec.container);
  const warnings: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      warnings.push(`cleanup: ${what}: ${errorMessage(e)}`);
    }
  };
  const gone = outcome === 'migrated' ? d.source : d.target;
  for (const h of [d.source, d.target]) {
    // Page servers, lazy-pages daemons, anything still naming this migration's directory.
    await step(`stop helpers on ${h.name}`, () => h.exec(['pkill', '-KILL', '-f', `${dir}/`], { idempotent: true }));
    await step(`unmount CRIU debris on ${h.name}`, () => umountUnder(h, dir));
    // Page ports opened to the peer for this migration (they also expire on their own).
    await step(`close page ports on ${h.name}`, () => revokeMigrationGrants(h, rec.id));
  }
  await step(`remove the container's state on ${gone.name}`, () => removeContainer(gone, rec.container));
  await step(`remove files on ${gone.name}`, () => gone.run(['rm', '-rf', bundle, `${HOST_PATHS.work}/${rec.container}.pid`, `${HOST_PATHS.work}/${rec.container}.runc.log`], { idempotent: true }));
  for (const h of [d.source, d.target]) await step(`remove ${dir} on ${h.name}`, () => h.run(['rm', '-rf', dir], { idempotent: true }));
  await step('close the link', () => HostLink.forId(rec.id, d.source, d.target).close());
  await step(`remove the journal on ${d.source.name}`, () => d.source.run(['rm', '-f', `${HOST_PATHS.journal}/${rec.id}.json`], { idempotent: true }));
  return warnings;
}

async function readHealth(d: ReconcileDeps, rec: JournalRecord, bundle: string): Promise<HealthSpec> {
  for (const h of [d.source, d.target]) {
    try {
      return healthSpecFromConfig(JSON.parse(await h.readFile(`${bundle}/config.json`)) as Record<string, unknown>);
    } catch {
      // try the other host
    }
  }
  logger().warn({ migration: rec.id }, 'no bundle config on either host: health is runc state only');
  return { kind: 'none' };
}

export function portOf(h: HealthSpec): number {
  return h.kind === 'none' ? 0 : h.port;
}
