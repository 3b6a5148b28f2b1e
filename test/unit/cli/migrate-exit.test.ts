import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { main, type Output } from '../../../src/cli/main.ts';
import { groupReport } from '../bench/fixtures.ts';
import { report } from '../chat/fixtures.ts';

/**
 * `ferry migrate`'s exit status from the outcome of the use case it runs: 0 moved, 1 rolled back or
 * failed, for one container and for a group. The command takes no dependencies, so the two use
 * cases (runMigration, runGroupMigration) are replaced at their module, and everything between
 * argv and the exit status is the real thing: flag parsing, validation, config, output, main().
 */
const uc = vi.hoisted(() => ({ runMigration: vi.fn(), runGroupMigration: vi.fn() }));

vi.mock('../../../src/app/migrate.ts', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../../src/app/migrate.ts')>()), runMigration: uc.runMigration }));
vi.mock('../../../src/app/group.ts', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../../src/app/group.ts')>()), runGroupMigration: uc.runGroupMigration }));

function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

async function migrate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = collect();
  const code = await main(['migrate', ...args, '--quiet'], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const moved = report({ container: 'web1', from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', method: 'page-server' });
const rolledBack = report({
  container: 'web1',
  from: 'lab-1',
  to: 'lab-2',
  runsOn: 'lab-1',
  method: 'page-server',
  outcome: 'rolled-back',
  error: 'restore failed on lab-2',
  errorCode: ErrorCode.CriuRestoreFailed,
});

describe('ferry migrate: exit status from the outcome', () => {
  beforeEach(() => {
    uc.runMigration.mockReset();
    uc.runGroupMigration.mockReset();
  });

  it('a container that moved exits 0, and the use case gets the request as typed', async () => {
    uc.runMigration.mockResolvedValueOnce(moved);
    const r = await migrate('web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web1 moved from lab-1 to lab-2');
    expect(uc.runMigration).toHaveBeenCalledTimes(1);
    expect(uc.runMigration.mock.calls[0]![0]).toMatchObject({ container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server' });
  });

  it('a rolled-back migration exits 1, its report on stdout and no error on stderr (it is an outcome, not a crash)', async () => {
    uc.runMigration.mockResolvedValueOnce(rolledBack);
    const r = await migrate('web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('web1 was NOT moved: rolled back, it runs on lab-1');
    expect(r.stdout).toContain(`failure: restore failed on lab-2 [${ErrorCode.CriuRestoreFailed}]`);
    expect(r.stderr).toBe('');
  });

  it('a rolled-back migration exits 1 with --json too, the report on stdout', async () => {
    uc.runMigration.mockResolvedValueOnce(rolledBack);
    const r = await migrate('web1', '--from', 'lab-1', '--to', 'lab-2', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'rolled-back', runsOn: 'lab-1', errorCode: ErrorCode.CriuRestoreFailed });
  });

  it('a migration that fails outright exits 1 with the error on stderr (and, with --json, on stdout)', async () => {
    uc.runMigration.mockRejectedValueOnce(new FerryError(ErrorCode.RollbackFailed, 'rollback failed: web1 runs nowhere'));
    const r = await migrate('web1', '--from', 'lab-1', '--to', 'lab-2', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ferry: rollback failed: web1 runs nowhere [${ErrorCode.RollbackFailed}]`);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: ErrorCode.RollbackFailed });
  });

  it('a group that moved exits 0', async () => {
    uc.runGroupMigration.mockResolvedValueOnce(groupReport());
    const r = await migrate('--group', 'blog', '--from', 'lab-1', '--to', 'lab-2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('moved from lab-1 to lab-2');
    expect(uc.runGroupMigration.mock.calls[0]!.slice(0, 3)).toEqual(['blog', 'lab-1', 'lab-2']);
  });

  it('a group that was rolled back exits 1, its report on stdout', async () => {
    uc.runGroupMigration.mockResolvedValueOnce(groupReport({ outcome: 'rolled-back', error: 'blog-web: restore failed on lab-2' }));
    const r = await migrate('--group', 'blog', '--from', 'lab-1', '--to', 'lab-2');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^group \S+ was NOT moved: rolled back, it runs on lab-1/);
    expect(r.stdout).toContain('failure: blog-web: restore failed on lab-2');
    expect(r.stderr).toBe('');
  });

  it('a rolled-back group exits 1 with --json too', async () => {
    uc.runGroupMigration.mockResolvedValueOnce(groupReport({ outcome: 'rolled-back', error: 'x' }));
    const r = await migrate('--group', 'blog', '--from', 'lab-1', '--to', 'lab-2', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'rolled-back', from: 'lab-1' });
  });

  it('a group move that fails outright exits 1 with the error on stderr', async () => {
    uc.runGroupMigration.mockRejectedValueOnce(new FerryError(ErrorCode.MigrationFailed, 'blog-db: checkpoint failed'));
    const r = await migrate('--group', 'blog', '--from', 'lab-1', '--to', 'lab-2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ferry: blog-db: checkpoint failed [${ErrorCode.MigrationFailed}]`);
    expect(r.stdout).toBe('');
  });
});
