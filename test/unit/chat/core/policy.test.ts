import { describe, expect, it } from 'vitest';
import {
  canApprove,
  canRequest,
  canView,
  environmentOf,
  loadPolicy,
  migrationEnvironments,
  viewableEnvironments,
  viewNothing,
  type ChatUser,
  type Decision,
  type PendingRequest,
  type PolicyFile,
} from '../../../../src/chat/core/policy.ts';

const FILE: PolicyFile = {
  environments: {
    aws: { requesters: ['U0ALICE01', 'group:sre'], approvers: ['U0BOB0001', 'S0OPS0001', 'U0ALICE01'] },
    gcp: { requesters: ['U0ALICE01', 'W0CAROL01'], approvers: ['U0BOB0001', 'U0ALICE01'] },
    lab: { requesters: ['S0DEVS001'], approvers: ['U0DAVE001'] },
  },
  hostEnvironments: { 'edge-1': 'gcp' },
};
const policy = loadPolicy(FILE);

const user = (id: string, groups: string[] = []): ChatUser => ({ id, groups });
const alice = user('U0ALICE01');
const bob = user('U0BOB0001');
const carol = user('W0CAROL01');
const sre = user('U0ERIN001', ['group:sre']);
const ops = user('U0FRANK01', ['S0OPS0001']);
const dev = user('U0GRACE01', ['S0DEVS001', 'group:other']);
const nobody = user('U0MALLORY');

const T0 = new Date('2025-03-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;
const request = (over: Partial<PendingRequest> = {}): PendingRequest => ({ requesterId: alice.id, envs: ['aws', 'gcp'], createdAt: T0, ...over });

function denied(d: Decision): { code: string; reason: string } {
  expect(d.allowed).toBe(false);
  return d as { code: string; reason: string };
}

describe('environmentOf', () => {
  it('uses the policy override for a listed host', () => {
    expect(environmentOf(policy, 'edge-1', 'aws')).toBe('gcp');
  });
  it('falls back to the inventory environment', () => {
    expect(environmentOf(policy, 'aws-1', 'aws')).toBe('aws');
  });
  it('ignores inherited object properties', () => {
    expect(environmentOf(policy, 'constructor', 'lab')).toBe('lab');
  });
});

describe('migrationEnvironments', () => {
  it('lists both hosts’ environments, source first', () => {
    expect(migrationEnvironments(policy, { name: 'aws-1', environment: 'aws' }, { name: 'gcp-1', environment: 'gcp' })).toEqual(['aws', 'gcp']);
  });
  it('lists one environment once', () => {
    expect(migrationEnvironments(policy, { name: 'lab-1', environment: 'lab' }, { name: 'lab-2', environment: 'lab' })).toEqual(['lab']);
  });
  it('applies overrides', () => {
    expect(migrationEnvironments(policy, { name: 'edge-1', environment: 'aws' }, { name: 'gcp-2', environment: 'gcp' })).toEqual(['gcp']);
  });
  it("lists every member's environment of a target group, any of which may be picked", () => {
    const members = [
      { name: 'gcp-1', environment: 'gcp' },
      { name: 'lab-2', environment: 'lab' },
      { name: 'gcp-2', environment: 'gcp' },
    ];
    expect(migrationEnvironments(policy, { name: 'aws-1', environment: 'aws' }, ...members)).toEqual(['aws', 'gcp', 'lab']);
  });
});

describe('canRequest', () => {
  it('allows a requester listed in every environment', () => {
    expect(canRequest(policy, alice, ['aws', 'gcp'])).toEqual({ allowed: true });
  });

  it('allows a W… (Enterprise Grid) user ID', () => {
    expect(canRequest(policy, carol, ['gcp'])).toEqual({ allowed: true });
  });

  it('refuses a requester missing from one of the two environments, naming it', () => {
    const d = denied(canRequest(policy, carol, ['aws', 'gcp']));
    expect(d.code).toBe('not-requester');
    expect(d.reason).toBe("you may not request migrations in environment 'aws': only people and groups listed in environments.aws.requesters of the Ferry policy may");
  });

  it('names every environment the user is missing from', () => {
    const d = denied(canRequest(policy, nobody, ['aws', 'gcp']));
    expect(d.reason).toBe(
      "you may not request migrations in environments 'aws' and 'gcp': only people and groups listed in environments.aws.requesters and environments.gcp.requesters of the Ferry policy may",
    );
  });

  it('allows through a group:<name> membership', () => {
    expect(canRequest(policy, sre, ['aws'])).toEqual({ allowed: true });
    expect(denied(canRequest(policy, sre, ['aws', 'gcp'])).reason).toContain("environment 'gcp'");
  });

  it('allows through an S… user-group membership', () => {
    expect(canRequest(policy, dev, ['lab'])).toEqual({ allowed: true });
  });

  it('matches groups exactly', () => {
    expect(canRequest(policy, user('U0X000001', ['sre']), ['aws']).allowed).toBe(false);
    expect(canRequest(policy, user('U0X000001', ['S0DEVS00']), ['lab']).allowed).toBe(false);
  });

  it('does not let an approver request', () => {
    expect(denied(canRequest(policy, bob, ['aws'])).code).toBe('not-requester');
  });

  it('refuses environments the policy does not list', () => {
    const d = denied(canRequest(policy, alice, ['aws', 'azure']));
    expect(d.code).toBe('unknown-environment');
    expect(d.reason).toBe("environment 'azure' is not in the Ferry policy, so nobody may migrate containers there");
  });

  it('is not fooled by inherited property names', () => {
    expect(denied(canRequest(policy, alice, ['constructor'])).code).toBe('unknown-environment');
    expect(denied(canRequest(policy, alice, ['__proto__'])).code).toBe('unknown-environment');
  });

  it('refuses when no environment is given', () => {
    expect(denied(canRequest(policy, alice, [])).code).toBe('no-environment');
  });

  it('refuses everyone in an environment with no requesters', () => {
    const closed = loadPolicy({ environments: { aws: { requesters: [], approvers: ['U0BOB0001'] } } });
    expect(denied(canRequest(closed, alice, ['aws'])).code).toBe('not-requester');
  });
});

describe('canApprove', () => {
  it('allows an approver listed in every environment', () => {
    expect(canApprove(policy, bob, request(), at(MIN))).toEqual({ allowed: true });
  });

  it('never lets the requester approve their own request, even when listed as approver', () => {
    expect(FILE.environments.aws!.approvers).toContain(alice.id);
    const d = denied(canApprove(policy, alice, request(), at(MIN)));
    expect(d.code).toBe('self-approval');
    expect(d.reason).toBe('you asked for this migration yourself: someone else must approve it');
  });

  it('refuses self-approval before anything else, even for an expired request', () => {
    expect(denied(canApprove(policy, alice, request(), at(60 * MIN))).code).toBe('self-approval');
  });

  it('allows through an S… group the approver belongs to', () => {
    expect(canApprove(policy, ops, request({ envs: ['aws'] }), at(MIN))).toEqual({ allowed: true });
  });

  it('refuses an approver missing from one environment, naming it', () => {
    const d = denied(canApprove(policy, ops, request(), at(MIN)));
    expect(d.code).toBe('not-approver');
    expect(d.reason).toBe("you may not approve migrations in environment 'gcp': only people and groups listed in environments.gcp.approvers of the Ferry policy may");
  });

  it('does not let a requester-only user approve', () => {
    expect(denied(canApprove(policy, carol, request(), at(MIN))).code).toBe('not-approver');
  });

  it('refuses approval in an environment the policy does not list', () => {
    expect(denied(canApprove(policy, bob, request({ envs: ['aws', 'azure'] }), at(MIN))).code).toBe('unknown-environment');
  });

  it('allows up to and including the TTL (15 minutes by default)', () => {
    expect(policy.approvalTtlMinutes).toBe(15);
    expect(canApprove(policy, bob, request(), at(15 * MIN - 1)).allowed).toBe(true);
    expect(canApprove(policy, bob, request(), at(15 * MIN)).allowed).toBe(true);
  });

  it('refuses an expired request', () => {
    const d = denied(canApprove(policy, bob, request(), at(15 * MIN + 1)));
    expect(d.code).toBe('expired');
    const later = denied(canApprove(policy, bob, request(), at(42 * MIN + 5000)));
    expect(later.reason).toBe('this request expired: it was made 42 min ago and approvals stay open 15 min; ask again with /migrate');
  });

  it('uses the policy TTL', () => {
    const short = loadPolicy({ ...FILE, approvalTtlMinutes: 1 });
    expect(canApprove(short, bob, request(), at(MIN)).allowed).toBe(true);
    expect(denied(canApprove(short, bob, request(), at(MIN + 1))).code).toBe('expired');
  });

  it('reads createdAt as ISO text or epoch milliseconds', () => {
    expect(canApprove(policy, bob, request({ createdAt: T0.toISOString() }), at(MIN)).allowed).toBe(true);
    expect(canApprove(policy, bob, request({ createdAt: T0.getTime() }), at(MIN)).allowed).toBe(true);
    expect(denied(canApprove(policy, bob, request({ createdAt: T0.toISOString() }), at(16 * MIN))).code).toBe('expired');
  });

  it('refuses a request without a valid creation time', () => {
    const d = denied(canApprove(policy, bob, request({ createdAt: 'yesterday' }), at(MIN)));
    expect(d.code).toBe('invalid-request');
    expect(d.reason).toContain("'yesterday'");
  });
});

describe('canView', () => {
  const watched = loadPolicy({ ...FILE, environments: { ...FILE.environments, lab: { ...FILE.environments.lab!, viewers: ['group:watchers'] } } });
  const watcher = user('U0WATCH01', ['group:watchers']);

  it('lets requesters and approvers see their environments by default', () => {
    expect(canView(policy, alice, ['aws', 'gcp'])).toEqual({ allowed: true });
    expect(canView(policy, bob, ['aws'])).toEqual({ allowed: true });
    expect(canView(policy, ops, ['aws'])).toEqual({ allowed: true });
    expect(canView(policy, dev, ['lab'])).toEqual({ allowed: true });
  });

  it('refuses someone listed nowhere, naming the role and its default', () => {
    const d = denied(canView(policy, nobody, ['aws']));
    expect(d.code).toBe('not-viewer');
    expect(d.reason).toBe("you may not see hosts and migrations in environment 'aws': only people and groups listed in environments.aws.viewers (by default its requesters and approvers) of the Ferry policy may");
  });

  it('uses an explicit viewers list instead of the default', () => {
    expect(canView(watched, watcher, ['lab'])).toEqual({ allowed: true });
    expect(denied(canView(watched, dev, ['lab'])).code).toBe('not-viewer');
  });

  it('lists the environments a user may see', () => {
    expect(viewableEnvironments(policy, alice)).toEqual(['aws', 'gcp']);
    expect(viewableEnvironments(policy, ops)).toEqual(['aws']);
    expect(viewableEnvironments(watched, watcher)).toEqual(['lab']);
    expect(viewableEnvironments(policy, nobody)).toEqual([]);
  });

  it('says why someone who may see nothing sees nothing', () => {
    const d = denied(viewNothing(policy));
    expect(d.code).toBe('not-viewer');
    expect(d.reason).toContain("'aws', 'gcp' and 'lab'");
  });
});
