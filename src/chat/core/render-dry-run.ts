import { count } from '../../util/table.ts';
import { message, section, type ChatMessage } from './blocks.ts';
import { bold, esc } from './mrkdwn.ts';

/** What a dry run found (the queue's DryRunResult, as far as chat shows it). */
export interface DryRunView {
  /** What the migration would do, in words (method, Terraform's plan). */
  plan: string;
  /** Why that method. */
  reason: string;
  /** `ansible-playbook --check` of the provision playbook, per host. */
  provisionCheck: Readonly<Record<string, { changed: number; failed: number }>>;
  /** Why each method these hosts cannot run is out. */
  blockers: readonly string[];
  /** The inventory's hook playbooks that would run (`pre_migrate: playbooks/x.yml`). */
  hooks?: readonly string[];
  /** For a `group:NAME` target: the member that would be picked, and why. */
  target?: { reason: string };
}

/** The thread reply of a finished dry run: what would happen, why, and what stands in the way. */
export function dryRunReport(container: string, r: DryRunView): ChatMessage {
  const lines = [`*Dry run* for ${bold(container)}: would ${esc(r.plan)}.`, `Why: ${esc(r.reason)}`];
  if (r.target) lines.push(`:dart: Target: ${esc(r.target.reason)}`);
  for (const [host, c] of Object.entries(r.provisionCheck)) lines.push(`Provision check on ${esc(host)}: ${count(c.changed, 'change')}, ${count(c.failed, 'failure')}`);
  if (r.blockers.length) lines.push(`Methods these hosts cannot run: ${r.blockers.map(esc).join('; ')}`);
  if (r.hooks?.length) lines.push(`Hooks that would run: ${r.hooks.map(esc).join(', ')}`);
  return message(`Dry run for ${esc(container)}: would ${esc(r.plan)}`, [section(lines.join('\n'))]);
}
