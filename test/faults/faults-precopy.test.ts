/**
 * The fault matrix's pc-ps cells (issue 11): pre-copy through the page server, whose pre-dump
 * rounds need soft-dirty tracking, so they run in the qemu lab (VMs booting a stock kernel). Every
 * fault at the pre-copy and checkpoint phases, through the same harness, worker, Redis and chat
 * relay as the namespace lab's cells; after the freeze pc-ps is page-server, whose cells are there.
 *
 * Only `npm run faults` (and `npm run test:full`) runs it: each cell is minutes under emulation.
 * CI covers the pre-copy phase with test/migrate/qemu.test.ts's cell (page server killed).
 */
import { qemuUnavailable, skipNote } from '../helpers/env.ts';
import { labDown, labUp } from '../helpers/lab.ts';
import { faultMatrix } from './harness.ts';
import { fullMatrix, QEMU_METHODS } from './matrix.ts';
import { closeSshMonitors, seeOverSsh } from './monitor.ts';

const FULL = process.env.FERRY_FAULTS === 'full';
const why = FULL ? qemuUnavailable() : 'in the full matrix only (npm run faults, npm run test:full): each cell takes minutes under emulation';
skipNote(why, 'the fault matrix\'s pc-ps cells in the qemu lab');

const REPEAT = Math.max(1, Number(process.env.FERRY_FAULTS_REPEAT ?? '1') || 1);
const cells = fullMatrix(QEMU_METHODS);

faultMatrix(
  {
    kind: 'qemu',
    up: async () => {
      await labDown(); // one lab at a time: they share the bridge and the lab directory
      await labUp(2, 'qemu');
    },
    down: async () => {
      closeSshMonitors();
      await labDown();
    },
    // Small and slowly dirtied, as in qemu.test.ts: under emulation the link copies ~3 MB/s, and
    // pre-copy rounds shrink only when it outruns the dirtying.
    ballastMib: 32,
    dirtyMibPerS: 0.25,
    roomyDiskBytes: 96 << 20,
    see: seeOverSsh,
  },
  { title: `fault matrix, pc-ps in the qemu lab (${cells.length} cells × ${REPEAT})`, skip: why !== null, cells, repeat: REPEAT },
);
