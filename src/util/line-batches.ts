import { ErrorCode, FerryError } from '../errors.ts';

/** How output lines are grouped for a reader that should not get one message per line (a chat thread). */
export interface BatchLimits {
  /** A batch goes out once it holds this many lines. @defaultValue 20 */
  maxLines: number;
  /** A batch goes out this long after its first line arrived, full or not. @defaultValue 2000 */
  maxMs: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxLines: 20, maxMs: 2000 };

/**
 * Groups lines into batches of at most `maxLines`, none held longer than `maxMs` after its first
 * line. Pure: the caller says what time it is, and asks {@link deadline} when to look again.
 */
export class LineBatcher {
  private pending: string[] = [];
  private since: number | null = null;

  constructor(private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS) {
    if (!Number.isInteger(limits.maxLines) || limits.maxLines < 1) throw new FerryError(ErrorCode.Internal, `maxLines must be a whole number >= 1 (got ${limits.maxLines})`);
    if (!(limits.maxMs >= 0)) throw new FerryError(ErrorCode.Internal, `maxMs must be >= 0 (got ${limits.maxMs})`);
  }

  /** Adds a line that arrived at `now`; returns the batches to send now, oldest first (often none). */
  push(line: string, now: number): string[][] {
    const out = this.due(now);
    if (this.since === null) this.since = now;
    this.pending.push(line);
    if (this.pending.length >= this.limits.maxLines) out.push(this.take());
    return out;
  }

  /** The pending batch when its time has come at `now`, else nothing. */
  due(now: number): string[][] {
    const d = this.deadline();
    return d !== null && now >= d ? [this.take()] : [];
  }

  /** When the pending batch falls due, or null when nothing is pending. */
  deadline(): number | null {
    return this.since === null ? null : this.since + this.limits.maxMs;
  }

  /** Whatever is pending, at the end of the output. */
  drain(): string[][] {
    return this.pending.length ? [this.take()] : [];
  }

  private take(): string[] {
    const batch = this.pending;
    this.pending = [];
    this.since = null;
    return batch;
  }
}

/**
 * A {@link LineBatcher} on a clock: `push` lines as they come, `end` when the output ends; each batch
 * goes to `onBatch` when full, when due, or at the end.
 */
export function streamBatches(onBatch: (lines: string[]) => void, limits: BatchLimits = DEFAULT_BATCH_LIMITS): { push(line: string): void; end(): void } {
  const b = new LineBatcher(limits);
  let timer: NodeJS.Timeout | undefined;
  const send = (batches: string[][]) => batches.forEach((x) => onBatch(x));
  const arm = () => {
    clearTimeout(timer);
    timer = undefined;
    const d = b.deadline();
    if (d !== null) timer = setTimeout(() => (send(b.due(Date.now())), arm()), Math.max(0, d - Date.now()));
  };
  return {
    push(line) {
      send(b.push(line, Date.now()));
      arm();
    },
    end() {
      clearTimeout(timer);
      timer = undefined;
      send(b.drain());
    },
  };
}
