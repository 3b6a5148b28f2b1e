/**
 * When to stop pre-copying. Each round writes the pages dirtied since the last one; rounds pay
 * off while that set shrinks markedly. Stricter than p.haul (64 pages, 10 % growth, 8 rounds) and
 * LXD (70 % skipped, 10 rounds): it also stops as soon as a round stops shrinking the set.
 */
export interface PrecopyPolicy {
  /** Stop when a round writes at most this many pages: the final dump will be tiny. @defaultValue 64 */
  minPages: number;
  /** Stop when a round writes more than this fraction of the previous round's pages. @defaultValue 0.8 */
  maxRatio: number;
  /** Stop when at least this fraction of scanned pages was skipped as unchanged. @defaultValue 0.95 */
  skippedFraction: number;
  /** Never more rounds than this. @defaultValue 8 */
  maxRounds: number;
}

export const DEFAULT_PRECOPY_POLICY: PrecopyPolicy = { minPages: 64, maxRatio: 0.8, skippedFraction: 0.95, maxRounds: 8 };

export interface RoundPages {
  pagesWritten: number;
  pagesSkipped: number;
}

/** null to go on; otherwise the rule that fired, in words. */
export function precopyStop(rounds: readonly RoundPages[], p: PrecopyPolicy = DEFAULT_PRECOPY_POLICY): string | null {
  const last = rounds.at(-1);
  if (!last) return null;
  const n = rounds.length;
  if (last.pagesWritten <= p.minPages) return `converged: round ${n} wrote ${last.pagesWritten} pages (<= ${p.minPages})`;
  const scanned = last.pagesWritten + last.pagesSkipped;
  if (n > 1 && scanned > 0 && last.pagesSkipped / scanned >= p.skippedFraction) {
    return `converged: round ${n} skipped ${pct(last.pagesSkipped / scanned)} of pages as unchanged (>= ${pct(p.skippedFraction)})`;
  }
  const prev = rounds.at(-2);
  if (prev && last.pagesWritten > prev.pagesWritten * p.maxRatio) {
    return `not converging: round ${n} wrote ${last.pagesWritten} pages, ${pct(last.pagesWritten / Math.max(1, prev.pagesWritten))} of round ${n - 1} (> ${pct(p.maxRatio)}): memory is dirtied as fast as it is copied`;
  }
  if (n >= p.maxRounds) return `round limit: ${n} rounds (max ${p.maxRounds})`;
  return null;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
