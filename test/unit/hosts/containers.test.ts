import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { listContainers, parseRuncList } from '../../../src/hosts/containers.ts';
import type { ExecResult } from '../../../src/hosts/RemoteHost.ts';

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

describe('listContainers', () => {
  /** A host whose every command answers `r` (runc list is the first one asked). */
  const host = (r: Partial<ExecResult>) => ({ name: 'lab-1', exec: async (): Promise<ExecResult> => ({ code: 0, stdout: '', stderr: '', ...r }) });
  const failure = (r: Partial<ExecResult>) => listContainers(host(r)).then(() => expect.fail('expected a failure'), (e: unknown) => e as FerryError);

  it('lists nothing on a host that never ran a container (no runc root yet)', async () => {
    expect(await listContainers(host({ code: 1, stderr: 'open /run/ferry/runc: no such file or directory' }))).toEqual([]);
  });

  it('fails with CommandFailed naming the host, the exit code and runc\'s words', async () => {
    const e = await failure({ code: 1, stderr: 'permission denied\n' });
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe(ErrorCode.CommandFailed);
    expect(e.message).toBe('runc list failed on lab-1 (exit 1): permission denied');
    expect(e.details).toMatchObject({ host: 'lab-1', code: 1, stderr: 'permission denied\n' });
    expect((e.details!.argv as string[]).slice(0, 1)).toEqual(['runc']);
  });

  it('fails with CommandFailed when runc prints something that is not JSON', async () => {
    const e = await failure({ stdout: 'WARN something\n[' });
    expect(e.code).toBe(ErrorCode.CommandFailed);
    expect(e.message).toMatch(/^runc list on lab-1 printed something that is not JSON: WARN something/);
  });
});
