import { stripUnsafe } from '../util/printable.ts';

/** One step of a long command (`terraform apply: lab-1, lab-2`, `provisioning the lab hosts (ansible)`). */
export interface Step {
  title: string;
  /** Milliseconds (the renderer's clock) when it started, and when it ended. */
  startedAt: number;
  endedAt?: number;
  state: 'running' | 'done' | 'failed';
}

/** What a long command reports to: steps as they begin, lines of its own in between, and the end. */
export interface Progress {
  /** A step begins; the one before it, if still running, is done. */
  step(title: string): void;
  /** A line to show above the steps (a tool's output with --verbose, a warning). */
  log(line: string): void;
  /** The command ends: the running step is done (`ok`) or failed. Stops any redrawing. */
  end(ok: boolean): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK = { done: '✔', failed: '✘' } as const;

/** `12.3 s`, `2 min 05 s`. */
export function elapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
}

/** Cuts a line to the terminal's width, so each step is exactly one row and a redraw knows how far up to go. */
export function fitWidth(line: string, columns: number): string {
  const chars = [...line];
  return chars.length <= columns - 1 ? line : `${chars.slice(0, Math.max(1, columns - 2)).join('')}…`;
}

/**
 * The task list as terminal rows: a spinner and the time so far for the running step, ✔ or ✘ and how
 * long it took for the others. Pure: the clock and the spinner's frame are given.
 */
export function renderSteps(steps: readonly Step[], now: number, frame: number, columns = 80): string[] {
  return steps.map((s) => {
    const mark = s.state === 'running' ? SPINNER[frame % SPINNER.length]! : MARK[s.state];
    return fitWidth(`${mark} ${s.title} (${elapsed((s.endedAt ?? now) - s.startedAt)})`, columns);
  });
}

/** The steps a run has seen, independent of how they are shown. */
class Steps {
  readonly list: Step[] = [];
  constructor(private readonly now: () => number) {}
  begin(title: string): Step {
    this.finish('done');
    const s: Step = { title: stripUnsafe(title), startedAt: this.now(), state: 'running' };
    this.list.push(s);
    return s;
  }
  finish(state: 'done' | 'failed'): Step | undefined {
    const cur = this.list.at(-1);
    if (!cur || cur.state !== 'running') return undefined;
    cur.state = state;
    cur.endedAt = this.now();
    return cur;
  }
}

/**
 * Plain lines, for logs and pipes: `… title` when a step begins, `✔ title (1.2 s)` or `✘ title (…)`
 * when it ends. Nothing is ever rewritten.
 */
export class PlainProgress implements Progress {
  private readonly steps: Steps;
  constructor(
    private readonly write: (line: string) => void,
    now: () => number = Date.now,
  ) {
    this.steps = new Steps(now);
  }
  step(title: string): void {
    this.report(this.steps.finish('done'));
    this.write(`… ${this.steps.begin(title).title}`);
  }
  log(line: string): void {
    this.write(stripUnsafe(line));
  }
  end(ok: boolean): void {
    this.report(this.steps.finish(ok ? 'done' : 'failed'));
  }
  private report(s: Step | undefined): void {
    if (s) this.write(renderSteps([s], s.endedAt!, 0, Number.MAX_SAFE_INTEGER)[0]!);
  }
}

/** What a terminal renderer writes to: raw text (escape sequences included) and the width in columns. */
export interface Terminal {
  write(s: string): void;
  columns: number;
}

/**
 * A task list redrawn in place on a terminal: every step on one row (cut to the width), the running
 * one with a spinner and its time so far. A logged line is printed above the list, which is drawn
 * again below it. Erasing moves the cursor up as many rows as were drawn, then clears to the end.
 */
export class TtyProgress implements Progress {
  private readonly steps: Steps;
  private drawn = 0;
  private frame = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly term: Terminal,
    private readonly now: () => number = Date.now,
    /** Redraw interval for the spinner and the running time; 0 redraws only on changes (tests). @defaultValue 120 ms */
    tickMs = 120,
  ) {
    this.steps = new Steps(now);
    if (tickMs > 0) {
      this.timer = setInterval(() => {
        this.frame++;
        this.draw();
      }, tickMs);
      this.timer.unref();
    }
  }

  step(title: string): void {
    this.steps.begin(title);
    this.draw();
  }

  log(line: string): void {
    this.erase();
    this.term.write(`${stripUnsafe(line)}\n`);
    this.draw();
  }

  end(ok: boolean): void {
    clearInterval(this.timer);
    this.steps.finish(ok ? 'done' : 'failed');
    this.draw();
    this.drawn = 0; // what is on screen stays: the record of the run
  }

  private erase(): void {
    if (this.drawn > 0) this.term.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const rows = renderSteps(this.steps.list, this.now(), this.frame, this.term.columns);
    this.erase();
    if (rows.length) this.term.write(`${rows.join('\n')}\n`);
    this.drawn = rows.length;
  }
}
