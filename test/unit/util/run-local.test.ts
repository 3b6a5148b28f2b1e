import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { lineSplitter, runLocal, withToolLog, type ToolLog } from '../../../src/util/run-local.ts';

function recorder(): ToolLog & { events: string[] } {
  const events: string[] = [];
  return { events, start: (f, a) => void events.push(`start ${f} ${a.join(' ')}`), line: (f, l) => void events.push(`${f}: ${l}`), end: (f, c) => void events.push(`end ${f} ${c}`) };
}

describe('lineSplitter', () => {
  it('joins lines cut across chunks and keeps a last unterminated one for flush', () => {
    const out: string[] = [];
    const s = lineSplitter((l) => out.push(l));
    s.push('ab');
    s.push('c\nd\r\ne');
    s.push('\n\nf');
    expect(out).toEqual(['abc', 'd', 'e', '']);
    s.flush();
    expect(out).toEqual(['abc', 'd', 'e', '', 'f']);
  });
});

describe('runLocal and the tool log', () => {
  it('sends every line of a program run anywhere inside withToolLog to the log, stdout and stderr alike', async () => {
    const log = recorder();
    const online: string[] = [];
    await withToolLog(log, async () => {
      await Promise.resolve(); // the context follows awaits
      await runLocal('sh', ['-c', 'printf "one\\ntw"; sleep 0.05; printf "o\\n" ; echo three >&2; printf last'], { onLine: (l) => online.push(l) });
    });
    expect(log.events[0]).toBe('start sh -c printf "one\\ntw"; sleep 0.05; printf "o\\n" ; echo three >&2; printf last');
    expect(log.events.at(-1)).toBe('end sh 0');
    // Within a stream lines keep their order and partial lines are joined; stdout and stderr interleave as they arrive.
    const lines = log.events.slice(1, -1);
    expect([...lines].sort()).toEqual(['sh: last', 'sh: one', 'sh: three', 'sh: two']);
    expect(lines.indexOf('sh: one')).toBeLessThan(lines.indexOf('sh: two'));
    expect(lines.indexOf('sh: two')).toBeLessThan(lines.indexOf('sh: last'));
    expect([...online].sort()).toEqual(['last', 'one', 'three', 'two']);
  });

  it('logs nothing outside a tool-log scope', async () => {
    const log = recorder();
    await withToolLog(log, async () => undefined);
    await runLocal('sh', ['-c', 'echo outside']);
    expect(log.events).toEqual([]);
  });

  it('says a missing program is not installed, rather than "failed (exit -1)"', async () => {
    const log = recorder();
    const e = await withToolLog(log, () => runLocal('ferry-no-such-tool', ['init'])).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: ErrorCode.ToolMissing, message: 'ferry-no-such-tool is not installed (not found on PATH): run scripts/setup.sh, which installs what Ferry needs, or install it yourself' });
    expect(log.events).toEqual(['start ferry-no-such-tool init', 'end ferry-no-such-tool -1']);
  });

  it('still fails with the output\'s tail when the program fails', async () => {
    const e = await runLocal('sh', ['-c', 'echo boom >&2; exit 3']).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: ErrorCode.CommandFailed, message: 'sh -c echo boom >&2; exit 3 failed (exit 3):\nboom' });
  });
});

describe('runLocal and a daemon that keeps its pipes', () => {
  it('returns once the program has ended, though a process it left behind still holds its output pipe', async () => {
    const seconds = `999${process.pid}`; // a sleep no other process has: what pkill finds afterwards
    try {
      // The escapee is its own session (setsid), outside the program's tree, with our stdout.
      const r = await runLocal('sh', ['-c', `setsid sleep ${seconds} & echo done`]);
      expect(r.stdout.trim()).toBe('done');
      expect(r.code).toBe(0);
    } finally {
      await runLocal('pkill', ['-f', `sleep ${seconds}`], { okCodes: [0, 1] });
    }
  });
});
