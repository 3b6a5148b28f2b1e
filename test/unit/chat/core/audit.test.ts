import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../../../src/chat/core/policy.ts';

const NOW = new Date('2025-03-01T12:34:56.789Z');

describe('auditEvent', () => {
  it('builds a plain event with every field given', () => {
    const e = auditEvent({ actor: 'U0ALICE01', action: 'request', migrationId: 'm-1', container: 'web1', from: 'aws-1', to: 'gcp-1', outcome: 'ok' }, NOW);
    expect(e).toEqual({ at: '2025-03-01T12:34:56.789Z', actor: 'U0ALICE01', action: 'request', migrationId: 'm-1', container: 'web1', from: 'aws-1', to: 'gcp-1', outcome: 'ok' });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('names the group of a group’s migration', () => {
    const e = auditEvent({ actor: 'U0ALICE01', action: 'request', migrationId: 'm-1', group: 'blog', from: 'aws-1', to: 'gcp-1', outcome: 'ok' }, NOW);
    expect(e).toEqual({ at: '2025-03-01T12:34:56.789Z', actor: 'U0ALICE01', action: 'request', migrationId: 'm-1', group: 'blog', from: 'aws-1', to: 'gcp-1', outcome: 'ok' });
  });

  it('leaves absent fields out rather than undefined', () => {
    const e = auditEvent({ actor: 'U0BOB0001', action: 'cancel', migrationId: 'm-2', outcome: 'error', reason: 'already frozen' }, NOW);
    expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'at', 'migrationId', 'outcome', 'reason']);
    expect(e.reason).toBe('already frozen');
  });

  it('takes outcome and reason from an allowing decision', () => {
    const e = auditEvent({ actor: 'U0BOB0001', action: 'approve', migrationId: 'm-1', decision: { allowed: true } }, NOW);
    expect(e.outcome).toBe('ok');
    expect(e).not.toHaveProperty('reason');
    expect(e).not.toHaveProperty('code');
  });

  it('takes outcome, reason and code from a denying decision', () => {
    const e = auditEvent({ actor: 'U0ALICE01', action: 'approve', migrationId: 'm-1', decision: { allowed: false, code: 'self-approval', reason: 'you asked for this migration yourself' } }, NOW);
    expect(e).toEqual({ at: NOW.toISOString(), actor: 'U0ALICE01', action: 'approve', migrationId: 'm-1', outcome: 'denied', reason: 'you asked for this migration yourself', code: 'self-approval' });
  });

  it.each(['request', 'approve', 'reject', 'cancel', 'deny'] as const)('records action %s', (action) => {
    expect(auditEvent({ actor: 'ferry', action, outcome: 'denied' }, NOW).action).toBe(action);
  });
});
