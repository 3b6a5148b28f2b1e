import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../../src/chat/core/blocks.ts';
import { toConsoleText } from '../../../../src/chat/core/console-render.ts';
import {
  alreadyMigrating,
  approvalClosed,
  approvalRequest,
  denied,
  failure,
  hostsTable,
  listTable,
  note,
  phaseReply,
  requestFailed,
  statusMessage,
  summary,
  usage,
} from '../../../../src/chat/core/render.ts';
import { hasUnsafe } from '../../../../src/util/printable.ts';
import { anyText, MENTIONS, trickyText } from '../../hostile-text.ts';
import { report } from '../fixtures.ts';

/** Slack user IDs Ferry itself mentions in these messages; any other `<@…>` came from user text. */
const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const PERMALINK = 'https://acme.slack.com/archives/C1/p123';

/** Every string Slack would render or notify with: the fallback and each text object, however deep. */
function textsOf(msg: ChatMessage): string[] {
  const out = [msg.text];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(msg.blocks);
  return out;
}

/** Markup Ferry may send: its own mentions of known IDs, Slack dates, and the permalink. Nothing else in angle brackets. */
const OWN_MARKUP = [new RegExp(`^<@(${ALICE}|${BOB})>$`), /^<!date\^\d+\^[^|<>]*\|[^<>]*>$/, new RegExp(`^<${PERMALINK.replace(/[./]/g, '\\$&')}\\|[^<>]*>$`)];

function expectInert(msg: ChatMessage, opts: { ownMarkupOnly: boolean }): void {
  for (const t of textsOf(msg)) {
    expect(hasUnsafe(t, { allowNewlines: true }), `unsafe character in ${JSON.stringify(t)}`).toBe(false);
    expect(t, 'a broadcast mention').not.toMatch(/<!(channel|here|everyone|group|subteam)/i);
    expect(t, 'a bare broadcast word').not.toMatch(/@(channel|here|everyone)\b/i);
    if (opts.ownMarkupOnly) {
      for (const m of t.match(/<[^<>]*>/g) ?? []) expect(OWN_MARKUP.some((r) => r.test(m)), `markup ${m} in ${JSON.stringify(t)}`).toBe(true);
    }
  }
  expect(hasUnsafe(toConsoleText(msg), { allowNewlines: true }), 'unsafe character in the console rendering').toBe(false);
}

const userText = fc.oneof(anyText(60), trickyText(), fc.constantFrom(...MENTIONS));
/** A user ID: Ferry's known ones, or anything at all (mention() must escape what is not an ID). */
const userId = fc.oneof(fc.constantFrom(ALICE, BOB), userText);

describe('renderers never pass on user text as controls or live markup', () => {
  const runs = { numRuns: 400 };

  it('usage, denied, already migrating, request failed', () => {
    fc.assert(
      fc.property(userText, userText, fc.option(fc.oneof(fc.constant(PERMALINK), userText), { nil: undefined }), (a, b, link) => {
        expectInert(usage(a), { ownMarkupOnly: true });
        expectInert(denied(a), { ownMarkupOnly: true });
        expectInert(alreadyMigrating(a, b, link), { ownMarkupOnly: true });
        expectInert(requestFailed(a, b), { ownMarkupOnly: true });
      }),
      runs,
    );
  });

  it('approval request and its outcomes', () => {
    fc.assert(
      fc.property(fc.record({ id: userText, requesterId: userId, container: userText, from: userText, to: userText, env: userText, by: userId, dryRun: fc.boolean() }), (r) => {
        const view = { id: r.id, requesterId: r.requesterId, container: r.container, from: r.from, to: r.to, method: 'auto' as const, dryRun: r.dryRun, envs: [r.env], expiresAt: new Date(0) };
        expectInert(approvalRequest(view), { ownMarkupOnly: true });
        for (const o of [{ status: 'approved', by: r.by }, { status: 'rejected', by: r.by }, { status: 'cancelled', by: r.by }, { status: 'expired' }] as const) {
          expectInert(approvalClosed(view, o), { ownMarkupOnly: true });
        }
      }),
      runs,
    );
  });

  it('live status in every state', () => {
    fc.assert(
      fc.property(
        fc.record({ id: userText, container: userText, from: userText, to: userText, reason: userText, detail: userText, note: userText, runsOn: fc.option(userText, { nil: undefined }), error: userText, who: userId }),
        fc.constantFrom('queued', 'running', 'done', 'failed', 'rolled-back', 'cancelled' as const),
        fc.boolean(),
        (r, status, rollingBack) => {
          const msg = statusMessage({
            id: r.id,
            container: r.container,
            from: r.from,
            to: r.to,
            status,
            method: 'page-server',
            methodReason: r.reason,
            requesterId: r.who,
            approverId: r.who,
            phase: 'checkpoint',
            phaseDetail: r.detail,
            finished: [{ phase: 'prepare', seconds: 1, detail: r.detail }],
            frozen: true,
            rollbackReason: rollingBack ? r.reason : undefined,
            note: r.note,
            runsOn: r.runsOn,
            error: r.error,
            cancelledBy: r.who,
          });
          expectInert(msg, { ownMarkupOnly: true });
        },
      ),
      runs,
    );
  });

  it('thread replies, summaries and failures', () => {
    fc.assert(
      fc.property(userText, userText, userText, (a, b, c) => {
        for (const e of [
          { type: 'method', method: 'lazy', reason: a },
          { type: 'phase-end', phase: 'restore', seconds: 1, detail: a },
          { type: 'info', message: a },
          { type: 'rollback', reason: a },
        ] as const) {
          expectInert(note(phaseReply(e) ?? 'x'), { ownMarkupOnly: true });
        }
        const r = report({ container: a, from: b, to: c, reason: a, error: b, health: c, precopyStop: a, runsOn: b });
        expectInert(summary(r), { ownMarkupOnly: true });
        expectInert(summary({ ...r, outcome: 'rolled-back' }), { ownMarkupOnly: true });
        expectInert(failure(new Error(a), { container: b, from: c, to: a, runsOn: null, id: b }), { ownMarkupOnly: true });
        expectInert(failure(Object.assign(new Error(a), { code: b })), { ownMarkupOnly: true });
      }),
      runs,
    );
  });

  it('hosts and migrations tables', () => {
    fc.assert(
      fc.property(userText, userText, userText, (a, b, c) => {
        expectInert(hostsTable([{ name: a, environment: b, address: c, groups: [b, c], reachable: true, criu: a, kernel: b, preCopy: true, containers: [c, a] }]), { ownMarkupOnly: true });
        expectInert(listTable([{ id: a, container: b, from: c, to: a, status: 'running', phase: 'transfer', method: b, createdAt: 0 }]), { ownMarkupOnly: true });
      }),
      runs,
    );
  });

  it('even raw text given to note() (mrkdwn by contract) loses controls and broadcast mentions', () => {
    fc.assert(
      fc.property(userText, (a) => {
        expectInert(note(`:warning: ${a}`), { ownMarkupOnly: false });
      }),
      runs,
    );
  });
});
