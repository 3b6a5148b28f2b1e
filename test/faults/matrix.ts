import { FAULTS, PHASES, type Fault, type FaultPhase } from './inject.ts';

export const LAB_METHODS = ['normal', 'page-server', 'lazy'] as const;
export type LabMethod = (typeof LAB_METHODS)[number];

export interface Cell {
  method: LabMethod;
  phase: FaultPhase;
  fault: Fault;
}

export const cellName = (c: Cell) => `${c.method} × ${c.phase} × ${c.fault}`;

/**
 * Whether a fault means something at a phase for a method (the namespace lab; pre-copy needs the
 * qemu lab). A page server exists only while a page-server dump or a lazy transfer runs; a full
 * target disk matters while images are written there; `runc restore` fails at the restore.
 */
export function applicable(c: Cell): boolean {
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

export function fullMatrix(): Cell[] {
  const cells: Cell[] = [];
  for (const method of LAB_METHODS) for (const phase of PHASES) for (const fault of FAULTS) if (applicable({ method, phase, fault })) cells.push({ method, phase, fault });
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
