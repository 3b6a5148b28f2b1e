import { describe, expect, it } from 'vitest';
import { ConsoleChat, rowsOf } from '../../../../src/chat/console/ConsoleChat.ts';
import { changedLines } from '../../../../src/chat/core/console-render.ts';
import { note, statusMessage } from '../../../../src/chat/core/render.ts';
import { queuedStatus, type StatusView } from '../../../../src/chat/core/status.ts';
import { ID } from '../fixtures.ts';

const queued = queuedStatus({ id: ID, container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server', requesterId: 'UALICE', approverId: 'UBOB' });
const running: StatusView = { ...queued, status: 'running', phase: 'checkpoint' };
const restoring: StatusView = { ...running, phase: 'restore', finished: [{ phase: 'checkpoint', seconds: 0.61 }] };

describe('changedLines', () => {
  it('keeps the lines the new text adds or changes, in its order', () => {
    expect(changedLines('a\nb\nc', 'a\nB\nc\nd')).toEqual(['B', 'd']);
    expect(changedLines('a\nb', 'a\nb')).toEqual([]);
    expect(changedLines('x', 'x\nx')).toEqual(['x']);
  });
});

describe('rowsOf', () => {
  it('counts wrapped lines as the rows they take', () => {
    expect(rowsOf('abc\n\nabcdefghij', 4)).toBe(1 + 1 + 3);
    expect(rowsOf('abcd', 4)).toBe(1);
  });
});

describe('ConsoleChat status updates', () => {
  it('prints only what changed when the output is not a terminal', async () => {
    const lines: string[] = [];
    const chat = new ConsoleChat((s) => lines.push(s), '/nonexistent');
    await chat.transport.update('console', '1', statusMessage(queued));
    await chat.transport.update('console', '1', statusMessage(queued));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ferry \(status\): ⌛ web1 lab-1 → lab-2: queued\n/);
    await chat.transport.update('console', '1', statusMessage(running));
    await chat.transport.update('console', '1', statusMessage(restoring));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('ferry (status): ↻ web1 lab-1 → lab-2: Checkpoint …\n                Method page-server (Page Server)');
    expect(lines[2]).toBe('ferry (status): ↻ web1 lab-1 → lab-2: Restore …\n                ✔ Checkpoint: 0.61 s');
  });

  it('rewrites the status in place on a terminal while nothing was printed after it', async () => {
    let screen = '';
    const lines: string[] = [];
    const chat = new ConsoleChat((s) => lines.push(s), '/nonexistent', { terminal: { write: (s) => void (screen += s), columns: 200 } });
    await chat.transport.update('console', '1', statusMessage(queued));
    const first = screen;
    const rows = first.trimEnd().split('\n').length;
    await chat.transport.update('console', '1', statusMessage(running));
    expect(screen.slice(first.length)).toMatch(new RegExp(`^\\x1b\\[${rows}F\\x1b\\[Jferry \\(status\\): ↻ web1 lab-1 → lab-2: Checkpoint …\\n`));
    // Something printed in between: the next update starts a new block below it instead.
    await chat.transport.post('console', note('a thread reply'), '1');
    const before = screen.length;
    await chat.transport.update('console', '1', statusMessage(restoring));
    expect(screen.slice(before)).toMatch(/^ferry \(status\): ↻ web1 lab-1 → lab-2: Restore …\n/);
    expect(lines).toEqual(['  ↳ a thread reply']);
  });
});
