import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { parseStat, treeOf, type ProcEntry } from '../../../src/util/process-tree.ts';
import { runLocal } from '../../../src/util/run-local.ts';

describe('parseStat', () => {
  it('reads pid, parent and start time, counting fields after the last parenthesis', () => {
    const stat = '4242 (we ird) (name) S 4200 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615';
    expect(parseStat(stat)).toEqual({ pid: 4242, ppid: 4200, start: '987654' });
  });

  it('refuses text that is not a stat line', () => {
    expect(parseStat('')).toBeNull();
    expect(parseStat('12 (x) S 1')).toBeNull();
  });
});

describe('treeOf', () => {
  const p = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, start: String(pid * 10) });
  const table = [p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1), p(21, 20)];

  it('gives the process and all its descendants, parents first', () => {
    expect(treeOf(10, table).map((e) => e.pid)).toEqual([10, 11, 12, 13]);
  });

  it('is empty for a process that is gone (its orphans belong to init now)', () => {
    expect(treeOf(99, table)).toEqual([]);
  });

  it('does not loop on a table that claims a cycle', () => {
    expect(treeOf(30, [p(30, 31), p(31, 30)]).map((e) => e.pid)).toEqual([30, 31]);
  });
});

function alive(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function gone(pattern: string): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pattern); i++) await new Promise((r) => setTimeout(r, 200));
  return !alive(pattern);
}

describe('runLocal stops the whole tree', () => {
  // A grandchild that holds the output pipe, as ansible-playbook's workers do: stopping only the
  // shell would leave it running and runLocal waiting for the pipe to close.
  const script = (marker: string) => `sleep ${marker} & wait`;

  it('on a timeout', async () => {
    const marker = `${300 + Math.floor(Math.random() * 600)}.${process.pid}1`;
    const e = await runLocal('sh', ['-c', script(marker)], { timeoutMs: 500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.CommandTimedOut);
    expect(await gone(`sleep ${marker}`)).toBe(true);
  });

  it('on a cancel', async () => {
    const marker = `${300 + Math.floor(Math.random() * 600)}.${process.pid}2`;
    const ac = new AbortController();
    const run = runLocal('sh', ['-c', script(marker)], { cancelSignal: ac.signal });
    for (let i = 0; i < 50 && !alive(`sleep ${marker}`); i++) await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const e = await run.catch((x: unknown) => x);
    expect((e as FerryError).code).toBe(ErrorCode.Cancelled);
    expect(await gone(`sleep ${marker}`)).toBe(true);
  });

  it('and a run that finishes in time is left alone', async () => {
    const r = await runLocal('sh', ['-c', 'echo one; echo two'], { timeoutMs: 60_000 });
    expect(r.stdout).toBe('one\ntwo');
  });
});
