import { describe, expect, it } from 'vitest';
import { parseRuncList } from '../../../src/hosts/containers.ts';

describe('parseRuncList', () => {
  it("returns no containers for runc's 'null'", () => {
    expect(parseRuncList('null\n')).toEqual([]);
  });

  it('returns no containers for empty output', () => {
    expect(parseRuncList('')).toEqual([]);
    expect(parseRuncList('  \n')).toEqual([]);
  });

  it('keeps id, pid and status of each entry and drops the rest', () => {
    const out = JSON.stringify([
      { ociVersion: '1.0.2-dev', id: 'web1', pid: 4242, status: 'running', bundle: '/var/lib/ferry/containers/web1', rootfs: '/x', created: '2024-01-01T00:00:00Z', owner: 'root' },
      { ociVersion: '1.0.2-dev', id: 'kv1', pid: 0, status: 'stopped', bundle: '/var/lib/ferry/containers/kv1', rootfs: '/y', created: '2024-01-01T00:00:00Z', owner: 'root' },
    ]);
    expect(parseRuncList(`${out}\n`)).toEqual([
      { id: 'web1', pid: 4242, status: 'running' },
      { id: 'kv1', pid: 0, status: 'stopped' },
    ]);
  });

  it('throws on output that is not JSON', () => {
    expect(() => parseRuncList('permission denied')).toThrow(SyntaxError);
  });
});
