import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { GROUP_ANNOTATION, GROUP_ORDER_ANNOTATION, groupOf, validateGroup, withGroup } from '../../../src/workloads/group.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('group labels', () => {
  it('writes both annotations and reads them back, keeping the others', () => {
    const base = { annotations: { 'org.criu.config': '/x' } };
    const c = withGroup(base, { name: 'blog', order: 1 });
    expect(c.annotations).toEqual({ 'org.criu.config': '/x', [GROUP_ANNOTATION]: 'blog', [GROUP_ORDER_ANNOTATION]: '1' });
    expect(groupOf(c)).toEqual({ name: 'blog', order: 1 });
    expect(base.annotations).toEqual({ 'org.criu.config': '/x' });
  });

  it('names the keys the group migration reads', () => {
    expect([GROUP_ANNOTATION, GROUP_ORDER_ANNOTATION]).toEqual(['org.ferry.group', 'org.ferry.group.order']);
  });

  it.each([
    ['no annotations', {}],
    ['a name only', { annotations: { 'org.ferry.group': 'blog' } }],
    ['an order that is not a number', { annotations: { 'org.ferry.group': 'blog', 'org.ferry.group.order': 'first' } }],
    ['a negative order', { annotations: { 'org.ferry.group': 'blog', 'org.ferry.group.order': '-1' } }],
    ['a name Ferry refuses', { annotations: { 'org.ferry.group': 'Blog;x', 'org.ferry.group.order': '0' } }],
  ])('reads no group from %s', (_what, config) => {
    expect(groupOf(config)).toBeNull();
  });

  it('refuses a bad name or order', () => {
    expect(catchFerry(() => validateGroup({ name: 'Blog', order: 0 }), ErrorCode.InvalidName).message).toContain("invalid group name: 'Blog'");
    catchFerry(() => validateGroup({ name: 'blog', order: 1.5 }), ErrorCode.UsageError);
    catchFerry(() => withGroup({}, { name: 'blog', order: 1000 }), ErrorCode.UsageError);
  });
});
