import type { MigrationEvent } from '../../src/migrate/events.ts';

/** The faults of the matrix (issue 11): each a real thing done to a real lab (test/faults/inject.ts). */
export const FAULTS = ['page-server-killed', 'link-cut-5s', 'ssh-drop-source', 'ssh-drop-target', 'worker-killed', 'redis-restarted', 'target-disk-full', 'restore-fails'] as const;
export type Fault = (typeof FAULTS)[number];

/** The phases a fault is injected at: the engine's phase-start events (pre-copy: its first round; the switch: the one to the target). */
export const PHASES = ['pre-copy', 'checkpoint', 'transfer', 'restore', 'health', 'switch', 'cleanup'] as const;
export type FaultPhase = (typeof PHASES)[number];

/** The methods of the namespace lab's matrix; pre-copy needs soft-dirty tracking, so pc-ps has its cells in the qemu lab. */
export const LAB_METHODS = ['normal', 'page-server', 'lazy'] as const;
export const QEMU_METHODS = ['pc-ps'] as const;
export type LabMethod = (typeof LAB_METHODS)[number] | (typeof QEMU_METHODS)[number];

export interface Cell {
  method: LabMethod;
  phase: FaultPhase;
  fault: Fault;
}

export const cellName = (c: Cell) => `${c.method} × ${c.phase} × ${c.fault}`;

/**
 * Whether a fault means something at a phase for a method. A page server exists only while a
 * page-server dump (a pre-copy round's too) or a lazy transfer runs; a full target disk matters
 * while images are written there; `runc restore` fails at the restore. pc-ps runs its pre-copy and
 * checkpoint phases in the qemu lab (after the freeze it is page-server, whose cells are here).
 */
export function applicable(c: Cell): boolean {
  if (c.method === 'pc-ps') return (c.phase === 'pre-copy' || c.phase === 'checkpoint') && c.fault !== 'restore-fails';
  if (c.phase === 'pre-copy') return false;
  switch (c.fault) {
    case 'page-server-killed':
      return (c.method === 'page-server' && c.phase === 'checkpoint') || (c.method === 'lazy' && (c.phase === 'restore' || c.phase === 'checkpoint'));
    case 'target-disk-full':
      return (c.method === 'page-server' && c.phase === 'checkpoint') || (c.method !== 'lazy' && c.phase === 'transfer');
    case 'restore-fails':
      return c.phase === 'restore';
    default:
      return true;
  }
}

export function fullMatrix(methods: readonly LabMethod[] = LAB_METHODS): Cell[] {
  const cells: Cell[] = [];
  for (const method of methods) for (const phase of PHASES) for (const fault of FAULTS) if (applicable({ method, phase, fault })) cells.push({ method, phase, fault });
  return cells;
}

/**
 * What CI runs: every fault and every phase (of the namespace lab) at least once, every method,
 * the kill -9 after the freeze among them. The full matrix: `npm run faults`.
 */
// Two cells measured with the others (README) run only in the full matrix, for CI's time: normal ×
// checkpoint × worker killed (a dead process after the freeze is also the kill -9 test's case) and
// page-server × cleanup × link cut (a link cut: lazy × restore; the cleanup: lazy × cleanup).
export const CI_CELLS: readonly Cell[] = [
  { method: 'page-server', phase: 'checkpoint', fault: 'page-server-killed' },
  { method: 'page-server', phase: 'transfer', fault: 'ssh-drop-target' },
  { method: 'normal', phase: 'transfer', fault: 'target-disk-full' },
  { method: 'page-server', phase: 'restore', fault: 'restore-fails' },
  { method: 'lazy', phase: 'restore', fault: 'link-cut-5s' },
  { method: 'page-server', phase: 'health', fault: 'worker-killed' },
  { method: 'page-server', phase: 'switch', fault: 'ssh-drop-source' },
  { method: 'lazy', phase: 'cleanup', fault: 'redis-restarted' },
];

/**
 * Whether an engine event is where a cell's fault fires: the start of its phase (pre-copy: the
 * first round's pre-dump; the switch: the one to the target). A full disk bites when something
 * writes, so it is filled just before the phase's writes begin, not at their start (a 64 MiB
 * transfer is over before an SSH round trip): before a checkpoint, at the end of the prepare (or
 * of the pre-copy rounds); before a transfer or the pre-copy, at the end of the prepare.
 */
export function firesAt(c: Cell, e: MigrationEvent): boolean {
  if (c.fault === 'target-disk-full') {
    if (c.phase === 'checkpoint') {
      if (c.method === 'pc-ps') return e.type === 'info' && e.message.startsWith('pre-copy stops');
      return e.type === 'phase-end' && e.phase === 'prepare';
    }
    if (c.phase === 'pre-copy') return e.type === 'phase-end' && e.phase === 'prepare';
    return e.type === 'phase-start' && e.phase === 'checkpoint';
  }
  if (e.type !== 'phase-start') return false;
  if (c.phase === 'pre-copy') return e.phase === 'pre-dump';
  return e.phase === c.phase && (c.phase !== 'switch' || (e.detail?.startsWith('traffic to') ?? false));
}

/** Room on the target's image directory when the disk-full fault is armed, where nothing large is written there before the phase. */
export const SMALL_DISK = 8 << 20;

/**
 * The size of the tmpfs put on the target's image directory for a full disk (preflight checks
 * /var/lib/ferry, which it is not). Where nothing large is written there before the cell's phase,
 * it holds 8 MiB, so the phase's own writes fill it whatever the timing: a fill fired at the
 * phase raced a 64 MiB dump on a fast link and lost (the cell migrated) in three of the eleven
 * runs on record. pc-ps's rounds write the memory there before its checkpoint: that tmpfs holds them, and
 * the fill at the end of the rounds, before the final dump, is what bites.
 */
export function diskFullBytes(c: Cell, roomy: number | undefined): number {
  if (c.method !== 'pc-ps' || c.phase !== 'checkpoint') return SMALL_DISK;
  if (roomy === undefined) throw new Error(`${cellName(c)}: the lab gives no size for a disk that holds the pre-copy rounds`);
  return roomy;
}
