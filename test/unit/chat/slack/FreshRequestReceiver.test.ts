import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_SECONDS, secondsTooFarAhead } from '../../../../src/chat/slack/FreshRequestReceiver.ts';

const NOW_MS = 1_750_000_000_000 + 999; // the fraction is dropped, as Bolt drops it
const NOW = 1_750_000_000;

describe('secondsTooFarAhead', () => {
  it.each<[string, string | string[] | undefined, number | undefined]>([
    ['now', String(NOW), undefined],
    ['6 minutes ago (stale: Bolt refuses it)', String(NOW - 360), undefined],
    ['4 minutes ahead', String(NOW + 240), undefined],
    ['exactly 5 minutes ahead', String(NOW + MAX_CLOCK_SKEW_SECONDS), undefined],
    ['5 minutes and 1 second ahead', String(NOW + MAX_CLOCK_SKEW_SECONDS + 1), 301],
    ['6 minutes ahead', String(NOW + 360), 360],
    ['a year ahead', String(NOW + 365 * 86400), 365 * 86400],
    ['ahead, written as Bolt would still read it', ` ${NOW + 360} `, 360],
    ['ahead, in hex (Number() reads it, so Bolt does)', `0x${(NOW + 360).toString(16)}`, 360],
    ['missing (Bolt refuses it)', undefined, undefined],
    ['repeated (Bolt refuses it)', [String(NOW + 360), String(NOW)], undefined],
    ['not a number (Bolt refuses it)', 'soon', undefined],
    ['infinite', 'Infinity', undefined],
  ])('%s → %j', (_what, header, expected) => {
    expect(secondsTooFarAhead(header, NOW_MS)).toBe(expected);
  });
});
