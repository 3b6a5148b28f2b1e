import { describe, expect, it } from 'vitest';
import type { MigrationEvent } from '../../../src/migrate/events.ts';
import { applicable, CI_CELLS, diskFullBytes, FAULTS, firesAt, fullMatrix, LAB_METHODS, PHASES, QEMU_METHODS, SMALL_DISK, type Cell } from '../../faults/matrix.ts';

const start = (phase: string, detail?: string) => ({ type: 'phase-start', phase, detail }) as MigrationEvent;
const end = (phase: string) => ({ type: 'phase-end', phase, seconds: 1 }) as MigrationEvent;

describe('the fault matrix', () => {
  it('has 99 cells in the namespace lab, none of them pre-copy, and 14 pc-ps cells in the qemu lab (pre-copy and checkpoint × every fault but a failing restore)', () => {
    const lab = fullMatrix();
    expect(lab).toHaveLength(99);
    expect(lab.some((c) => c.phase === 'pre-copy')).toBe(false);
    const qemu = fullMatrix(QEMU_METHODS);
    expect(qemu).toHaveLength(14);
    expect(new Set(qemu.map((c) => c.phase))).toEqual(new Set(['pre-copy', 'checkpoint']));
    expect(new Set(qemu.map((c) => c.fault))).toEqual(new Set(FAULTS.filter((f) => f !== 'restore-fails')));
  });

  it('runs in CI a subset of applicable cells with every method, every fault and every phase of the namespace lab', () => {
    for (const c of CI_CELLS) expect(applicable(c), JSON.stringify(c)).toBe(true);
    expect(new Set(CI_CELLS.map((c) => c.method))).toEqual(new Set(LAB_METHODS));
    expect(new Set(CI_CELLS.map((c) => c.fault))).toEqual(new Set(FAULTS));
    expect(new Set(CI_CELLS.map((c) => c.phase))).toEqual(new Set(PHASES.filter((p) => p !== 'pre-copy')));
  });
});

describe('where a cell fires its fault', () => {
  const cell = (method: Cell['method'], phase: Cell['phase'], fault: Cell['fault']): Cell => ({ method, phase, fault });

  it('fires at the start of its phase; the pre-copy at its first pre-dump; the switch only at the one to the target', () => {
    expect(firesAt(cell('pc-ps', 'pre-copy', 'link-cut-5s'), start('pre-dump', 'round 1'))).toBe(true);
    expect(firesAt(cell('pc-ps', 'pre-copy', 'link-cut-5s'), start('checkpoint'))).toBe(false);
    expect(firesAt(cell('pc-ps', 'checkpoint', 'worker-killed'), start('pre-dump', 'round 1'))).toBe(false);
    expect(firesAt(cell('pc-ps', 'checkpoint', 'worker-killed'), start('checkpoint'))).toBe(true);
    expect(firesAt(cell('page-server', 'switch', 'ssh-drop-source'), start('switch', 'divert traffic from the source'))).toBe(false);
    expect(firesAt(cell('page-server', 'switch', 'ssh-drop-source'), start('switch', 'traffic to lab-2'))).toBe(true);
    expect(firesAt(cell('lazy', 'cleanup', 'redis-restarted'), end('cleanup'))).toBe(false);
  });

  it('fills the target disk just before the phase writes: after the prepare, after the pre-copy rounds, or at the checkpoint for a transfer', () => {
    expect(firesAt(cell('page-server', 'checkpoint', 'target-disk-full'), end('prepare'))).toBe(true);
    expect(firesAt(cell('page-server', 'checkpoint', 'target-disk-full'), start('checkpoint'))).toBe(false);
    expect(firesAt(cell('pc-ps', 'checkpoint', 'target-disk-full'), end('prepare'))).toBe(false);
    expect(firesAt(cell('pc-ps', 'checkpoint', 'target-disk-full'), { type: 'info', message: 'pre-copy stops after round 3: the dirty set stopped shrinking' })).toBe(true);
    expect(firesAt(cell('pc-ps', 'pre-copy', 'target-disk-full'), end('prepare'))).toBe(true);
    expect(firesAt(cell('normal', 'transfer', 'target-disk-full'), start('checkpoint'))).toBe(true);
    expect(firesAt(cell('normal', 'transfer', 'target-disk-full'), start('transfer'))).toBe(false);
  });
});

describe('the full target disk', () => {
  it('leaves 8 MiB where nothing large reaches the target before the phase, and room for the pre-copy rounds before pc-ps\'s checkpoint', () => {
    expect(diskFullBytes({ method: 'normal', phase: 'transfer', fault: 'target-disk-full' }, undefined)).toBe(SMALL_DISK);
    expect(diskFullBytes({ method: 'page-server', phase: 'checkpoint', fault: 'target-disk-full' }, undefined)).toBe(SMALL_DISK);
    expect(diskFullBytes({ method: 'pc-ps', phase: 'pre-copy', fault: 'target-disk-full' }, 96 << 20)).toBe(SMALL_DISK);
    expect(diskFullBytes({ method: 'pc-ps', phase: 'checkpoint', fault: 'target-disk-full' }, 96 << 20)).toBe(96 << 20);
    expect(() => diskFullBytes({ method: 'pc-ps', phase: 'checkpoint', fault: 'target-disk-full' }, undefined)).toThrow(/no size/);
  });
});
