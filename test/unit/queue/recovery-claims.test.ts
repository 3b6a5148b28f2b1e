import { describe, expect, it } from 'vitest';
import { keys } from '../../../src/queue/jobs.ts';
import { recoveredClaims } from '../../../src/queue/recovery.ts';

describe('recoveredClaims: what a dead migration held in the queue', () => {
  it("a container's migration: its own claim, under its own id", () => {
    expect(recoveredClaims({ id: 'm-1', container: 'web1' })).toEqual([[keys.active('web1'), 'm-1']]);
  });

  it("a group's member: also the member's claim and the group's, both under the group's job", () => {
    const claims = recoveredClaims({ id: 'm-2', container: 'blog-db', group: { name: 'blog', ids: ['m-2', 'm-3'], job: 'job-9' } });
    expect(claims).toEqual([
      [keys.active('blog-db'), 'm-2'],
      [keys.active('blog-db'), 'job-9'],
      [keys.activeGroup('blog'), 'job-9'],
    ]);
  });

  it('a group moved by the CLI (no queue job): nothing of the group to release', () => {
    expect(recoveredClaims({ id: 'm-2', container: 'blog-db', group: { name: 'blog', ids: ['m-2'] } })).toEqual([[keys.active('blog-db'), 'm-2']]);
  });
});
