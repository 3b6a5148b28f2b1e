/**
 * `fn`'s result, kept for `ttlMs`: every call within that time gets the same promise, including while
 * it is still running (one computation in flight, shared); a failure is not kept, so the next call
 * tries again. For answers that are costly and may be a little stale, such as `/migrate hosts`, which
 * probes every host over SSH.
 *
 * @param now - The clock (milliseconds). @defaultValue Date.now
 */
export function memoizeFor<T>(fn: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let kept: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (kept && t - kept.at < ttlMs) return kept.value;
    const value = fn();
    const entry = { at: t, value };
    kept = entry;
    value.catch(() => {
      if (kept === entry) kept = undefined;
    });
    return value;
  };
}
