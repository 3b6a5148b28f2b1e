import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { groupMembers, pickFromGroup, targetHosts, type GroupCandidate } from '../../../src/app/group-target.ts';
import { parseGroupTarget } from '../../../src/util/names.ts';
import type { HostsFile } from '../../../src/hosts/inventory.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';
import { catchFerry } from '../catch-ferry.ts';
import { capabilities, groupedHost } from '../helpers/hosts.ts';

const GiB = 1024 ** 3;
const spec = groupedHost;
const file: HostsFile = {
  environment: 'default',
  knownHostsFile: '',
  inventoryFile: '/inv',
  hosts: [spec('lab-1', ['cloud_a']), spec('b-1', ['cloud-b']), spec('b-2', ['cloud-b']), spec('b-3', ['cloud-b']), spec('b-4', ['cloud-b'], 'no host key is pinned for it')],
};
const caps = capabilities;
const cand = (host: string, freeGiB: number, containers: number, over: Partial<HostCapabilities> = {}): GroupCandidate => ({
  host,
  capabilities: caps(host, over),
  freeMemoryBytes: freeGiB * GiB,
  containers,
});
const source = caps('lab-1');

describe('parseGroupTarget', () => {
  it('reads group:NAME and leaves plain host names alone', () => {
    expect(parseGroupTarget('group:cloud-b')).toBe('cloud-b');
    expect(parseGroupTarget('lab-2')).toBeUndefined();
  });

  it('refuses a name Ansible would not have', () => {
    expect(catchFerry(() => parseGroupTarget('group:a;b'), ErrorCode.InvalidName).message).toContain("invalid group 'a;b'");
  });
});

describe('groupMembers', () => {
  it('refuses an unknown group with the closest names', () => {
    const e = catchFerry(() => groupMembers(file, 'cloud-c'), ErrorCode.UnknownGroup);
    expect(e.message).toBe("unknown group 'cloud-c': did you mean group:cloud-b or group:cloud_a?");
  });

  it('says a hosts.json has no groups', () => {
    const e = catchFerry(() => groupMembers({ ...file, hosts: [spec('lab-1', [])] }, 'web'), ErrorCode.UnknownGroup);
    expect(e.message).toBe("unknown group 'web' (groups: none; a hosts.json has no groups, set FERRY_INVENTORY)");
  });
});

describe('pickFromGroup', () => {
  const req = { source, method: 'auto' as const };

  it('prefers a member with soft-dirty tracking over more free memory', () => {
    const p = pickFromGroup(file, 'cloud-b', [cand('b-1', 8, 0, { softDirty: false }), cand('b-2', 2, 3), cand('b-3', 1, 0)], req);
    expect(p.host).toBe('b-2');
    expect(p.reason).toBe(
      'b-2 from group cloud-b: it tracks dirty memory (soft-dirty), so the container can later leave it by pre-copy, unlike b-1; ' +
        'of the rest, it has the most free memory (2.0 GiB, against 1.0 GiB on b-3). ' +
        'Passed over: b-4 (not usable: no host key is pinned for it).',
    );
  });

  it('then the most free memory', () => {
    const p = pickFromGroup(file, 'cloud-b', [cand('b-1', 2, 0), cand('b-2', 6, 5), cand('b-3', 4, 0)], req);
    expect(p.host).toBe('b-2');
    expect(p.reason).toBe('b-2 from group cloud-b: it has the most free memory (6.0 GiB, against 4.0 GiB on b-3, 2.0 GiB on b-1). Passed over: b-4 (not usable: no host key is pinned for it).');
  });

  it('then the fewest containers, when free memory is within one step', () => {
    const p = pickFromGroup(file, 'cloud-b', [cand('b-1', 4, 3), { ...cand('b-2', 4, 1), freeMemoryBytes: 4 * GiB + 1024 }, cand('b-3', 4, 2)], req);
    expect(p.host).toBe('b-2');
    expect(p.reason).toContain('b-2 from group cloud-b: it runs the fewest containers (1, against 2 on b-3, 3 on b-1).');
  });

  it('breaks a full tie by name', () => {
    const p = pickFromGroup(file, 'cloud-b', [cand('b-3', 4, 1), cand('b-1', 4, 1), cand('b-2', 4, 2)], req);
    expect(p.host).toBe('b-1');
    expect(p.reason).toContain(
      'b-1 from group cloud-b: it runs the fewest containers (1, against 2 on b-2); of the rest, it ties with b-3 on soft-dirty tracking, free memory and containers (4.0 GiB free, 1 container), and comes first by name.',
    );
    expect(p.passedOver.slice(0, 2)).toEqual([
      { host: 'b-3', why: 'ranked lower' },
      { host: 'b-2', why: 'ranked lower' },
    ]);
  });

  it('passes over members that cannot run the method, lack memory, were not probed or did not answer', () => {
    const p = pickFromGroup(
      file,
      'cloud-b',
      [cand('b-1', 8, 0, { criuVersion: '4.1' }), { host: 'b-2', capabilities: null, freeMemoryBytes: 0, containers: 0 }, cand('b-3', 1, 0)],
      { ...req, memoryBytes: 512 * 1024 ** 2 },
    );
    expect(p.host).toBe('b-3');
    expect(p.reason).toBe(
      'b-3 from group cloud-b: the only member that can take it (1.0 GiB free, 0 containers). Passed over: b-1 (CRIU 4.1 on b-1 is older than 4.2); ' +
        'b-2 (unreachable (its probe failed)); b-4 (not usable: no host key is pinned for it).',
    );
    const short = catchFerry(() => pickFromGroup(file, 'cloud-b', [cand('b-3', 1, 0)], { ...req, memoryBytes: 2 * GiB }), ErrorCode.NoTargetInGroup);
    expect(short.message).toContain('b-3 (1.0 GiB free, the container needs 2.0 GiB)');
    expect(short.message).toContain('b-1 (not probed)');
  });

  it('checks the requested method: lazy needs userfaultfd on the target', () => {
    const p = pickFromGroup(file, 'cloud-b', [cand('b-1', 8, 0, { uffd: false }), cand('b-2', 1, 0)], { source, method: 'lazy' });
    expect(p.host).toBe('b-2');
    expect(p.passedOver).toContainEqual({ host: 'b-1', why: expect.stringContaining('lazy needs userfaultfd on the target b-1') });
  });

  it('never picks the source, even in its own group', () => {
    const e = catchFerry(() => pickFromGroup(file, 'cloud_a', [cand('lab-1', 8, 0)], req), ErrorCode.NoTargetInGroup);
    expect(e.message).toBe('no member of group cloud_a can take the container: lab-1 (the source)');
  });
});

describe('targetHosts', () => {
  it('is the host itself, or every member of a target group (usable or not: any may be picked later)', () => {
    expect(targetHosts(file, 'lab-1').map((h) => h.name)).toEqual(['lab-1']);
    expect(targetHosts(file, 'group:cloud-b').map((h) => h.name)).toEqual(['b-1', 'b-2', 'b-3', 'b-4']);
  });

  it('refuses an unknown host or group with the closest names, and a malformed group name', () => {
    expect(catchFerry(() => targetHosts(file, 'b-9'), ErrorCode.UnknownHost).message).toContain("unknown host 'b-9'");
    expect(catchFerry(() => targetHosts(file, 'group:cloud-c'), ErrorCode.UnknownGroup).message).toContain('did you mean group:cloud-b');
    catchFerry(() => targetHosts(file, 'group:-x'), ErrorCode.InvalidName);
  });
});

describe('pickFromGroup: why a member did not answer', () => {
  it("quotes the probe's failure, clipped", () => {
    const e = catchFerry(
      () => pickFromGroup(file, 'cloud-b', [{ host: 'b-1', capabilities: null, freeMemoryBytes: 0, containers: 0, error: `ssh to b-1 failed: ${'x'.repeat(300)}` }], { source, method: 'auto' }),
      ErrorCode.NoTargetInGroup,
    );
    expect(e.message).toMatch(/b-1 \(unreachable \(its probe failed: ssh to b-1 failed: x+…\)\)/);
    expect(e.message).not.toContain('x'.repeat(200));
  });
});
