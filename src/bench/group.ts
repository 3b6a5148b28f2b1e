/**
 * The WordPress cell's pure parts: which methods a group of these containers can move with on
 * these hosts, and a group's report as one run of its row (the group's own window, and its
 * members' figures added up the way their steps ran).
 */
import { PHASE_COLUMNS, type PhaseTimes } from '../migrate/clock.ts';
import type { GroupReport, MigrationReport } from '../migrate/report.ts';
import type { RowSpec } from './plan.ts';
import type { BenchRun } from './results.ts';

/** The kernel settings post-copy of the WordPress pair depends on, read from one host. */
export interface LazyHostFacts {
  host: string;
  /** /proc/sys/vm/unprivileged_userfaultfd, trimmed; null when unreadable. */
  unprivilegedUserfaultfd: string | null;
  /** /proc/sys/fs/pipe-user-pages-soft, trimmed; null when unreadable. */
  pipeUserPagesSoft: string | null;
  /** /proc/sys/kernel/random/boot_id: equal on two hosts that share one kernel (the namespace lab). */
  bootId: string | null;
}

/**
 * Why post-copy of the WordPress pair cannot work on these hosts, or null (pure). Both services run
 * in a user namespace (workloads/wordpress/README.md), where the restored tasks may open a
 * userfaultfd only with vm.unprivileged_userfaultfd=1; and where source and target share a kernel
 * the lazy page server's pipes and the restore's are charged to one root, so MariaDB's pipe cannot
 * be restored past fs.pipe-user-pages-soft unless it is 0. Checked before the pair is frozen: the
 * restore would fail after the freeze, every run, and roll back.
 */
export function lazyGroupBlocker(hosts: readonly LazyHostFacts[]): string | null {
  const uffd = hosts.filter((h) => h.unprivilegedUserfaultfd !== '1').map((h) => h.host);
  if (uffd.length) {
    return `the WordPress containers run in a user namespace, where a lazy restore needs vm.unprivileged_userfaultfd=1; ${uffd.join(' and ')} ${uffd.length > 1 ? 'have' : 'has'} it off (sysctl -w vm.unprivileged_userfaultfd=1 on the hosts)`;
  }
  const boots = hosts.map((h) => h.bootId);
  const shared = boots.length > 1 && boots.every((b) => b !== null && b === boots[0]);
  const pipes = hosts.filter((h) => h.pipeUserPagesSoft !== '0').map((h) => h.host);
  if (shared && pipes.length) {
    return `${hosts.map((h) => h.host).join(' and ')} share one kernel, so the lazy page server's pipes and MariaDB's restored ones count against one root: it needs fs.pipe-user-pages-soft=0 (sysctl -w fs.pipe-user-pages-soft=0)`;
  }
  return null;
}

const max = (xs: readonly (number | null)[]): number | null => {
  const ys = xs.filter((x): x is number => x !== null);
  return ys.length ? Math.max(...ys) : null;
};
const sum = (xs: readonly (number | null)[]): number | null => {
  const ys = xs.filter((x): x is number => x !== null);
  return ys.length ? ys.reduce((a, b) => a + b, 0) : null;
};

/**
 * The group's Table II columns (pure). Downtime and total are the group's own (one window, from
 * the first freeze to the last healthy restore). The members' other phases ran as the engine runs
 * them: pre-copy, checkpoint and transfer side by side, so the group waited for the longest;
 * restores one after the other (the database first), so they add up.
 */
export function groupTimes(g: GroupReport): PhaseTimes {
  const of = (c: keyof PhaseTimes) => g.members.map((m) => m.times[c]);
  const t = Object.fromEntries(PHASE_COLUMNS.map((c) => [c, max(of(c))])) as unknown as PhaseTimes;
  return { ...t, restore: sum(of('restore')), downtime: g.times.downtime, total: g.times.total };
}

/** A group's move as a run of its row: bytes and pages summed over the members, each member's report kept. */
export function runFromGroupReport(row: RowSpec, run: number, g: GroupReport, lazy: boolean): BenchRun {
  const criu = g.members.map((m) => m.criu).filter((c): c is NonNullable<MigrationReport['criu']> => c !== null);
  const round1 = g.members.map((m) => m.rounds[0]?.pagesWritten ?? null);
  return {
    row: row.id,
    run,
    from: g.from,
    to: g.to,
    outcome: g.outcome,
    ...(g.error ? { error: g.error } : {}),
    times: groupTimes(g),
    bytes: g.members.reduce((a, m) => a + m.bytes.total, 0),
    // Members are frozen side by side: the group's CRIU freeze is the longest. Lazy dumps report none.
    frozenMs: !lazy && criu.length === g.members.length && criu.length ? Math.max(...criu.map((c) => c.frozenMs)) : null,
    pages: {
      round1: round1.every((p) => p !== null) && round1.length ? sum(round1) : null,
      final: criu.length === g.members.length && criu.length ? criu.reduce((a, c) => a + c.pagesWritten + c.pagesLazy, 0) : null,
    },
    group: g,
  };
}
