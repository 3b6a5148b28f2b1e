import type { FerryConfig } from '../config.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { probeHost } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { findHost } from '../hosts/inventory.ts';
import { runPlaybook } from '../infra/ansible.ts';
import { environmentProvider } from '../infra/environments.ts';
import { Lab } from '../infra/lab.ts';
import { methods as builtinMethods } from '../migrate/methods/builtin.ts';
import type { MethodRegistry } from '../migrate/methods/registry.ts';
import { validateRequest, type MigrationRequest } from '../migrate/request.ts';
import type { MigrationEvents } from '../migrate/events.ts';
import { HOOK_NAMES, inventoryDir, resolveHooks } from './hooks.ts';
import { loadHosts } from './hosts.ts';
import type { StepEvent } from './migrate.ts';
import { resolveTarget, type GroupSurveyor } from './resolve-target.ts';

export interface DryRunResult {
  dryRun: true;
  method: string;
  reason: string;
  plan: string;
  provisionCheck: Record<string, { changed: number; failed: number }>;
  /** Why each method these hosts cannot run is out. */
  blockers: string[];
  /** The inventory's hook playbooks the migration would run (`pre_migrate: /path`), in order. */
  hooks?: string[];
  /** For a `group:NAME` target: the member that would be picked now, and why. */
  target?: { group: string; host: string; reason: string };
}

/**
 * What a migration would do, changing nothing: for a `group:NAME` target the member that would be
 * picked now (as runMigration picks it), the provision playbook in check mode, Terraform's plan of
 * the hosts' environment, both hosts probed and the method chosen exactly as the engine would choose it.
 */
export async function planMigration(
  asked: MigrationRequest,
  run: { config: FerryConfig; hosts?: HostsFile; registry?: MethodRegistry; onStep?: (s: StepEvent) => void; events?: MigrationEvents; survey?: GroupSurveyor },
): Promise<DryRunResult> {
  validateRequest(asked, { groupTarget: true });
  const hosts = run.hosts ?? (await loadHosts(run.config));
  const { req, pick } = await resolveTarget(asked, { ...run, hosts });
  const target = pick ? { group: pick.group, host: pick.host, reason: pick.reason } : undefined;
  const registry = run.registry ?? builtinMethods;
  const specs = [findHost(hosts, req.from), findHost(hosts, req.to)];
  const hookPlan = resolveHooks(hosts, req, await inventoryDir(hosts.inventoryFile));
  const hooks = HOOK_NAMES.flatMap((h) => hookPlan[h].map((p) => `${h}: ${p.playbook}`));
  run.onStep?.({ step: 'provision', state: 'start', detail: 'ansible-playbook --check' });
  const check = await runPlaybook('provision.yml', hosts.inventoryFile, { limit: `${req.from},${req.to}`, check: true });
  run.onStep?.({ step: 'provision', state: 'end' });
  // Terraform's view of the environment the hosts belong to, whichever provider made it: the lab
  // as it was brought up (its topology and link from lab.json), else the provider's module (a lab
  // provider's, or a cloud environment's from `ferry env create`).
  const lab = new Lab(run.config);
  const provider = await environmentProvider(hosts.environment, run.config);
  const plan = (await lab.currentProvider()) === hosts.environment ? await lab.plan() : provider ? await provider.plan({ hosts: hosts.hosts.map((h) => h.name) }) : null;
  const hs = specs.map((s) => new RemoteHost(s, { defaultTimeoutS: run.config.commandTimeoutS }));
  try {
    const [src, dst] = await Promise.all(hs.map((h) => probeHost(h)));
    const blockers = registry
      .names()
      .map((m) => registry.blocker(m, src!, dst!))
      .filter((b): b is string => b !== null);
    const choice = registry.choose(req.method, src!, dst!);
    const tf = plan ? `terraform plan (${hosts.environment}): ${plan.changes ? 'changes pending' : 'no changes'}` : `no Terraform module for environment ${hosts.environment} on this controller`;
    const to = pick ? `${req.to} (picked from group ${pick.group})` : req.to;
    return { dryRun: true, method: choice.method, reason: choice.reason, plan: `move ${req.container} from ${req.from} to ${to} with ${choice.method}; ${tf}`, provisionCheck: check.recap, blockers, hooks, ...(target ? { target } : {}) };
  } finally {
    for (const h of hs) h.dispose();
  }
}

/** What a dry run found, for a terminal (pure). */
export function renderPlan(r: DryRunResult): string {
  const lines = [`dry run: would ${r.plan}`, `why: ${r.reason}`];
  if (r.target) lines.push(`target: ${r.target.reason}`);
  for (const [h, x] of Object.entries(r.provisionCheck)) lines.push(`provision check on ${h}: ${x.changed} change(s), ${x.failed} failure(s)`);
  if (r.blockers.length) lines.push(`methods these hosts cannot run: ${r.blockers.join('; ')}`);
  lines.push(r.hooks?.length ? `hooks that would run: ${r.hooks.join(', ')}` : 'no hooks would run');
  lines.push('nothing was frozen or changed');
  return lines.join('\n');
}
