import { ErrorCode, FerryError } from '../errors.ts';
import { methodBlocker, type MethodRegistry, type MethodRequest } from '../migrate/methods.ts';
import { findHost, type HostSpec, type HostsFile } from '../hosts/inventory.ts';
import { parseGroupTarget } from '../util/names.ts';
import { clipText } from '../util/printable.ts';
import { closestMatches, orList } from '../util/suggest.ts';
import { formatBytes } from '../util/table.ts';
import type { HostCapabilities } from '../hosts/probe.ts';

/** Every group some host is in (with parent groups), sorted. */
export function groupNames(file: HostsFile): string[] {
  return [...new Set(file.hosts.flatMap((h) => h.groups ?? []))].sort();
}

/**
 * The hosts a migration to `target` may land on (pure): the host itself, or every member of a
 * `group:NAME` target, since any of them may be picked when it runs (the policy decides on all of
 * their environments). An unknown host or group is refused with the closest names.
 */
export function targetHosts(file: HostsFile, target: string): HostSpec[] {
  const group = parseGroupTarget(target);
  return group === undefined ? [findHost(file, target)] : groupMembers(file, group);
}

/** The hosts of a group, parents included as in Ansible; an unknown group is refused with the closest names. */
export function groupMembers(file: HostsFile, group: string): HostSpec[] {
  const members = file.hosts.filter((h) => h.groups?.includes(group));
  if (members.length === 0) {
    const known = groupNames(file);
    const near = closestMatches(group, known);
    const hint = near.length ? `: did you mean ${orList(near.map((g) => `group:${g}`))}?` : ` (groups: ${known.join(', ') || 'none; a hosts.json has no groups, set FERRY_INVENTORY'})`;
    throw new FerryError(ErrorCode.UnknownGroup, `unknown group '${group}'${hint}`, { details: { group, suggestions: near } });
  }
  return members;
}

/** One group member as the caller found it just now (probe, free memory, containers). */
export interface GroupCandidate {
  host: string;
  /** Its probed capabilities; null when the probe failed (unreachable, no CRIU answer). */
  capabilities: HostCapabilities | null;
  /** Memory available for a new container (MemAvailable), in bytes. */
  freeMemoryBytes: number;
  /** Containers it runs now. */
  containers: number;
  /** Why the probe failed, when it did (said in the member's reason). */
  error?: string;
}

/** What the picked member must be able to do. */
export interface GroupPickRequest {
  /** The container's current host, probed: it is never picked, and the method must run from it. */
  source: HostCapabilities;
  /** The requested method; `auto` needs what its fallback (`page-server`) needs. */
  method: MethodRequest;
  /** Memory the container uses: a member with less free memory is passed over. @defaultValue 0 */
  memoryBytes?: number;
  /** The methods the migration runs with. @defaultValue the built-in methods */
  registry?: MethodRegistry;
}

export interface GroupPick {
  host: string;
  /** Why this member, in words, with the members passed over and why. */
  reason: string;
  passedOver: { host: string; why: string }[];
}

/** Free memory compares in steps of this size, so a few megabytes do not outweigh the container count. */
export const MEMORY_STEP_BYTES = 256 * 1024 * 1024;

/**
 * Picks the member of `group` best able to take a container, and says why. Rules, in order:
 * - eligible: in the group, not the source, usable (a pinned host key), probed, able to run the
 *   method from the source (`methodBlocker`), with free memory for the container;
 * - prefer a member with soft-dirty tracking: the method of this move depends on the source, but
 *   only such a target lets the container leave it again by pre-copy;
 * - then the most free memory (in {@link MEMORY_STEP_BYTES} steps);
 * - then the fewest containers; then the name, so the choice is repeatable.
 * Throws NoTargetInGroup, with every member's reason, when none is eligible.
 */
export function pickFromGroup(file: HostsFile, group: string, candidates: readonly GroupCandidate[], req: GroupPickRequest): GroupPick {
  const members = groupMembers(file, group);
  const byName = new Map(candidates.map((c) => [c.host, c]));
  const need = req.memoryBytes ?? 0;
  const passedOver: { host: string; why: string }[] = [];
  const eligible: Eligible[] = [];
  for (const m of members) {
    const c = byName.get(m.name);
    const why =
      m.name === req.source.host ? 'the source'
      : m.unusable ? `not usable: ${m.unusable}`
      : !c ? 'not probed'
      : !c.capabilities ? `unreachable (its probe failed${c.error ? `: ${clipText(c.error, 200)}` : ''})`
      : (methodBlocker(req.method === 'auto' ? 'page-server' : req.method, req.source, c.capabilities, req.registry) ??
        (c.freeMemoryBytes < need ? `${formatBytes(c.freeMemoryBytes)} free, the container needs ${formatBytes(need)}` : null));
    if (why) passedOver.push({ host: m.name, why });
    else eligible.push(c as Eligible);
  }
  if (eligible.length === 0) {
    throw new FerryError(ErrorCode.NoTargetInGroup, `no member of group ${group} can take the container: ${passedOver.map((p) => `${p.host} (${p.why})`).join('; ')}`, {
      details: { group, passedOver },
    });
  }
  const step = (c: GroupCandidate) => Math.floor(c.freeMemoryBytes / MEMORY_STEP_BYTES);
  // The same order whyBest explains, rule by rule.
  const ranked = [...eligible].sort(
    (a, b) => Number(b.capabilities.softDirty) - Number(a.capabilities.softDirty) || step(b) - step(a) || a.containers - b.containers || a.host.localeCompare(b.host),
  );
  const [best, ...others] = ranked as [Eligible, ...Eligible[]];
  const passed = [...others.map((c) => ({ host: c.host, why: 'ranked lower' })), ...passedOver];
  const tail = passedOver.length ? ` Passed over: ${passedOver.map((p) => `${p.host} (${p.why})`).join('; ')}.` : '';
  return { host: best.host, reason: `${best.host} from group ${group}: ${whyBest(best, others)}.${tail}`, passedOver: passed };
}

type Eligible = GroupCandidate & { capabilities: HostCapabilities };

/** Each rule that put `best` ahead of the others, in order, naming the members it set aside. */
function whyBest(best: Eligible, others: readonly Eligible[]): string {
  const facts = `${formatBytes(best.freeMemoryBytes)} free, ${best.containers} container${best.containers === 1 ? '' : 's'}`;
  if (others.length === 0) return `the only member that can take it (${facts})`;
  const names = (cs: readonly Eligible[]) => orList(cs.map((c) => c.host)).replace(/ or /, ' and ');
  const rules: { key: (c: Eligible) => number; say: (losers: Eligible[]) => string }[] = [
    { key: (c) => Number(c.capabilities.softDirty), say: (l) => `it tracks dirty memory (soft-dirty), so the container can later leave it by pre-copy, unlike ${names(l)}` },
    {
      key: (c) => Math.floor(c.freeMemoryBytes / MEMORY_STEP_BYTES),
      say: (l) => `it has the most free memory (${formatBytes(best.freeMemoryBytes)}, against ${l.map((c) => `${formatBytes(c.freeMemoryBytes)} on ${c.host}`).join(', ')})`,
    },
    { key: (c) => -c.containers, say: (l) => `it runs the fewest containers (${best.containers}, against ${l.map((c) => `${c.containers} on ${c.host}`).join(', ')})` },
  ];
  const parts: string[] = [];
  let rest = [...others];
  for (const rule of rules) {
    const losers = rest.filter((c) => rule.key(c) !== rule.key(best));
    if (losers.length === 0) continue;
    parts.push(`${parts.length ? 'of the rest, ' : ''}${rule.say(losers)}`);
    rest = rest.filter((c) => !losers.includes(c));
  }
  if (rest.length) parts.push(`${parts.length ? 'of the rest, ' : ''}it ties with ${names(rest)} on soft-dirty tracking, free memory and containers (${facts}), and comes first by name`);
  return parts.join('; ');
}
