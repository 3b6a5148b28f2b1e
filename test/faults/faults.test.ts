/**
 * The fault matrix of issue 11 in the namespace lab (normal, page-server, lazy; harness.ts runs the
 * cells), and the `kill -9` of `ferry migrate` after the freeze of a 1 GiB migration. pc-ps, whose
 * pre-copy needs the qemu lab, has its cells in faults-precopy.test.ts.
 *
 * CI runs CI_CELLS (every fault and phase at least once); `npm run faults` runs the full matrix.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { clearLab, debris, deploy, ferry, httpText, labUp, onHost, runcState } from '../helpers/lab.ts';
import { faultMatrix, HOSTS } from './harness.ts';
import { squatPort } from './inject.ts';
import { CI_CELLS, fullMatrix } from './matrix.ts';
import { seeOnLabHost } from './monitor.ts';

const why = labUnavailable();
skipNote(why, 'the fault matrix');

const FULL = process.env.FERRY_FAULTS === 'full';
const REPEAT = Math.max(1, Number(process.env.FERRY_FAULTS_REPEAT ?? '1') || 1);
const cells = FULL ? fullMatrix() : [...CI_CELLS];

faultMatrix(
  { kind: 'namespace', up: async () => void (await labUp(2)), ballastMib: 64, dirtyMibPerS: 1, see: seeOnLabHost, squatPort },
  {
    title: `fault matrix (${FULL ? 'full' : 'CI subset'}: ${cells.length} cells × ${REPEAT})`,
    skip: why !== null,
    cells,
    repeat: REPEAT,
    more: () => {
      it('kill -9 of `ferry migrate` right after the freeze of a 1 GiB page-server migration, then `ferry recover`: one host, its state', async () => {
        const big = 'webbig';
        await clearLab([big]);
        await deploy('lab-1', { workload: 'web', name: big, ballast_mib: 1024, dirty_mib_per_s: 1, port: 8091 });
        const instance = await httpText('lab-1', 8091, '/instance');
        const before = Number(await httpText('lab-1', 8091, '/counter'));
        const cli = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), 'migrate', big, '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        const killed = new Promise<void>((resolve) => {
          cli.stderr!.on('data', (d: Buffer) => {
            err += d.toString();
            if (err.includes('container frozen')) setTimeout(() => {
              cli.kill('SIGKILL');
              resolve();
            }, 200);
          });
          cli.on('exit', () => resolve());
        });
        await killed;
        expect(err).toContain('container frozen');
        const rec = await ferry(['recover', '--json']);
        expect(rec.code, `${rec.stderr}\n${rec.stdout}`).toBe(0);
        const reports = JSON.parse(rec.stdout) as { container: string; outcome: string; runsOn: string }[];
        const mine = reports.find((r) => r.container === big);
        // The worker of this suite recovers orphans too (every minute): whichever claims it on the
        // source host does it, the other skips it. Then the record goes when that one is done.
        if (mine?.outcome === 'skipped') {
          const until = Date.now() + 5 * 60_000;
          while (Date.now() < until && (await onHost('lab-1', ['ls', '-A', '/var/lib/ferry/journal'], { allowFail: true })).trim() !== '') await new Promise((r) => setTimeout(r, 1000));
        } else {
          expect(mine?.outcome, rec.stdout).toMatch(/migrated|rolled-back/);
        }
        const on: string[] = [];
        for (const h of HOSTS) if ((await runcState(h, big)) === 'running') on.push(h);
        expect(on).toHaveLength(1);
        expect(await httpText(on[0]!, 8091, '/instance')).toBe(instance);
        expect(Number(await httpText(on[0]!, 8091, '/counter'))).toBeGreaterThanOrEqual(before);
        for (const h of HOSTS) expect(await debris(h), `debris on ${h}`).toEqual([]);
        await clearLab([big]);
      });
    },
  },
);
