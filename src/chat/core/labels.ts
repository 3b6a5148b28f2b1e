import type { Phase } from '../../migrate/clock.ts';
import { METHOD_INFO, type MethodRequest } from '../../migrate/methods.ts';

/** How a phase is named in chat. */
export const PHASE_LABELS: Record<Phase, string> = {
  preflight: 'Preflight checks',
  prepare: 'Prepare',
  'pre-dump': 'Pre-dump',
  'pre-copy': 'Pre-copy',
  checkpoint: 'Checkpoint',
  transfer: 'Transfer',
  restore: 'Restore',
  health: 'Health check',
  switch: 'Traffic switch',
  cleanup: 'Cleanup',
  rollback: 'Rollback',
};

/** `pc-ps-rsync (PC & PS + Rsync)`, or `auto (the fastest method both hosts support)`. */
export function methodLabel(m: MethodRequest): string {
  return m === 'auto' ? 'auto (the fastest method both hosts support)' : `${m} (${METHOD_INFO[m].title})`;
}

/** `1.23 s` */
export function seconds(s: number): string {
  return `${s.toFixed(2)} s`;
}
