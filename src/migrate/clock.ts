import { ErrorCode, FerryError } from '../errors.ts';

/** The paper's Table II columns, in seconds (null where a method has no such phase). */
export interface PhaseTimes {
  preDump: number | null;
  preCopy: number | null;
  preMigration: number | null;
  checkpoint: number | null;
  transfer: number | null;
  restore: number | null;
  downtime: number | null;
  total: number | null;
}

export const PHASE_COLUMNS: readonly (keyof PhaseTimes)[] = ['preDump', 'preCopy', 'preMigration', 'checkpoint', 'transfer', 'restore', 'downtime', 'total'];

export type Phase = 'preflight' | 'prepare' | 'pre-dump' | 'pre-copy' | 'checkpoint' | 'transfer' | 'restore' | 'health' | 'switch' | 'cleanup' | 'rollback';

/**
 * Monotonic phase timing. Phases may repeat (pre-copy rounds): their durations add up.
 * `now` is injected so the arithmetic is tested without waiting.
 */
export class PhaseClock {
  private readonly started: number;
  private readonly open = new Map<Phase, number>();
  private readonly sums = new Map<Phase, number>();
  private readonly marks = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  start(phase: Phase): void {
    this.open.set(phase, this.now());
  }

  /** Ends a phase and returns its duration in seconds. */
  end(phase: Phase): number {
    const t0 = this.open.get(phase);
    // The engine starts every phase it ends: a phase ended unstarted is a bug.
    if (t0 === undefined) throw new FerryError(ErrorCode.Internal, `phase ${phase} was not started`);
    this.open.delete(phase);
    const d = this.now() - t0;
    this.sums.set(phase, (this.sums.get(phase) ?? 0) + d);
    return d / 1000;
  }

  async time<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    this.start(phase);
    try {
      return await fn();
    } finally {
      if (this.open.has(phase)) this.end(phase);
    }
  }

  mark(name: 'freeze' | 'healthy' | 'done'): void {
    this.marks.set(name, this.now());
  }

  seconds(phase: Phase): number | null {
    const s = this.sums.get(phase);
    return s === undefined ? null : s / 1000;
  }

  times(): PhaseTimes {
    const preDump = this.seconds('pre-dump');
    const preCopy = this.seconds('pre-copy');
    const freeze = this.marks.get('freeze');
    const healthy = this.marks.get('healthy');
    const done = this.marks.get('done') ?? this.now();
    return {
      preDump,
      preCopy,
      preMigration: preDump === null && preCopy === null ? null : (preDump ?? 0) + (preCopy ?? 0),
      checkpoint: this.seconds('checkpoint'),
      transfer: this.seconds('transfer'),
      restore: this.seconds('restore'),
      downtime: freeze !== undefined && healthy !== undefined ? (healthy - freeze) / 1000 : null,
      total: (done - this.started) / 1000,
    };
  }
}
