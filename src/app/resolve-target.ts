/**
 * A migration's target, resolved when the migration runs: a host stays as it was given; a
 * `group:NAME` target becomes the member of that inventory group best able to take the container
 * (pickFromGroup's rules), found by asking every member just then. The request as asked for (chat's
 * approval, the queue's signed job) keeps `group:NAME`; only the request the hooks and the engine get
 * names the host.
 */
import type { FerryConfig } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { hostMemory } from '../bench/host-info.ts';
import { listContainers } from '../hosts/containers.ts';
import { findHost, type HostSpec, type HostsFile } from '../hosts/inventory.ts';
import { probeHost, type HostCapabilities } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import type { MigrationEvents } from '../migrate/events.ts';
import type { MethodRegistry } from '../migrate/methods/registry.ts';
import type { MigrationRequest } from '../migrate/request.ts';
import { parseGroupTarget } from '../util/names.ts';
import { groupMembers, pickFromGroup, type GroupCandidate, type GroupPick } from './group-target.ts';

/** What the hosts said just now, for a group target: plain data (unit tests give it as is). */
export interface GroupSurvey {
  /** The source, probed: the method must run from it. */
  source: HostCapabilities;
  /** Memory the container uses on the source (its cgroup), in bytes; 0 when unknown. */
  memoryBytes: number;
  /** Each member asked; a member that did not answer has `capabilities: null`. */
  candidates: GroupCandidate[];
}

/** What a survey asks: the source (and the container on it), and the members to ask. */
export interface SurveyQuestion {
  config: FerryConfig;
  container: string;
  source: HostSpec;
  /** The group's members, without the source and the hosts Ferry does not connect to. */
  members: HostSpec[];
}

/** Asks the hosts a {@link SurveyQuestion}. */
export type GroupSurveyor = (q: SurveyQuestion) => Promise<GroupSurvey>;

/** The member picked from a `group:NAME` target, and why (pickFromGroup's words). */
export interface TargetPick extends GroupPick {
  group: string;
}

export interface TargetRun {
  config: FerryConfig;
  hosts: HostsFile;
  /** Gets the `target` event (the pick and its reason), for progress displays and the chat thread. */
  events?: MigrationEvents;
  /** @defaultValue the built-in methods */
  registry?: MethodRegistry;
  /** How the members are asked. @defaultValue {@link surveyOverSsh} */
  survey?: GroupSurveyor;
}

/**
 * The request with its target resolved: as given when `to` is a host; for `group:NAME`, the group's
 * members asked (probe, free memory, containers), one picked, the `target` event emitted, and `to`
 * set to it. An unknown group is refused before any host is asked; a group none of whose members
 * can take the container is refused with `ferry_no_target_in_group`, naming each member and why.
 */
export async function resolveTarget<R extends MigrationRequest>(req: R, run: TargetRun): Promise<{ req: R; pick?: TargetPick }> {
  const group = parseGroupTarget(req.to);
  if (group === undefined) return { req };
  const members = groupMembers(run.hosts, group);
  const source = findHost(run.hosts, req.from);
  // The source is never picked, and an unusable host is never connected to: pickFromGroup says why for both.
  const ask = members.filter((m) => m.name !== source.name && !m.unusable);
  const survey = await (run.survey ?? surveyOverSsh)({ config: run.config, container: req.container, source, members: ask });
  const pick = pickFromGroup(run.hosts, group, survey.candidates, { source: survey.source, method: req.method, memoryBytes: survey.memoryBytes, registry: run.registry });
  run.events?.emitEvent({ type: 'target', group, host: pick.host, reason: pick.reason });
  return { req: { ...req, to: pick.host }, pick: { group, ...pick } };
}

/**
 * Asks over SSH, all at once: the source's capabilities and the container's memory; each member's
 * capabilities (the capability probe), MemAvailable and the containers it runs. A member that does
 * not answer is a candidate with no capabilities (passed over as unreachable); one dead member holds
 * the migration for seconds, not the minute of a normal reconnect.
 */
export async function surveyOverSsh(q: SurveyQuestion): Promise<GroupSurvey> {
  const opts = { defaultTimeoutS: Math.min(q.config.commandTimeoutS, 60), reconnectS: 5 };
  const ask = async <T>(spec: HostSpec, fn: (h: RemoteHost) => Promise<T>): Promise<T> => {
    const h = new RemoteHost(spec, opts);
    try {
      return await fn(h);
    } finally {
      h.dispose();
    }
  };
  const [source, candidates] = await Promise.all([
    ask(q.source, async (h) => {
      const [caps, containers] = await Promise.all([probeHost(h), listContainers(h)]);
      return { caps, memoryBytes: containers.find((c) => c.name === q.container)?.memoryBytes ?? 0 };
    }),
    Promise.all(
      q.members.map((spec) =>
        ask(spec, async (h): Promise<GroupCandidate> => {
          const [capabilities, memory, containers] = await Promise.all([probeHost(h), hostMemory(h), listContainers(h)]);
          return { host: spec.name, capabilities, freeMemoryBytes: memory.availableKiB * 1024, containers: containers.filter((c) => c.status !== 'stopped').length };
        }).catch((e: unknown): GroupCandidate => ({ host: spec.name, capabilities: null, freeMemoryBytes: 0, containers: 0, error: errorMessage(e) })),
      ),
    ),
  ]);
  return { source: source.caps, memoryBytes: source.memoryBytes, candidates };
}
