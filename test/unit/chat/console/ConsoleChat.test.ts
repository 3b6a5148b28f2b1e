import { describe, expect, it } from 'vitest';
import type { ChatService } from '../../../../src/chat/ChatService.ts';
import { CONSOLE_HELP, ConsoleChat, rowsOf } from '../../../../src/chat/console/ConsoleChat.ts';
import { changedLines } from '../../../../src/chat/core/console-render.ts';
import { groupSummary, note, statusMessage } from '../../../../src/chat/core/render.ts';
import { queuedStatus, type StatusView } from '../../../../src/chat/core/status.ts';
import { ID, report } from '../fixtures.ts';

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

describe('ConsoleChat and groups (the shared core does the work)', () => {
  it('hands /migrate group … to the chat service as Slack would, and its help mentions it', async () => {
    const texts: string[] = [];
    const service = { onCommand: async (c: { text: string }) => void texts.push(c.text) } as unknown as ChatService;
    const chat = new ConsoleChat(() => undefined, '/nonexistent');
    await chat.line(service, '/migrate group blog from lab-1 to lab-2 method page-server', async () => undefined);
    expect(texts).toEqual(['group blog from lab-1 to lab-2 method page-server']);
    expect(CONSOLE_HELP).toContain('/migrate group blog from lab-1 to lab-2');
  });

  it('prints a group summary as a thread reply, its table intact', async () => {
    const lines: string[] = [];
    const chat = new ConsoleChat((s) => lines.push(s), '/nonexistent');
    const member = (container: string) => report({ container, from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', method: 'page-server', rounds: [] });
    await chat.transport.post('console', groupSummary({ group: 'blog', outcome: 'migrated', from: 'lab-1', to: 'lab-2', members: [member('blog-db'), member('blog-web')], times: { downtime: 2.1, total: 6 } }, { id: ID }), '1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ {2}↳ ✔ group blog moved from lab-1 to lab-2: 2 containers \(blog-db, blog-web\)\n/);
    expect(lines[0]).toMatch(/\n\s+blog-db\s+migrated\s+1\.23/);
    expect(lines[0]).toMatch(/\n\s+group blog\s+migrated\s+2\.10\s+6\.00/);
  });
});
