/**
 * A target group in the namespace lab, the hosts read from an inventory Ferry did not render (a copy
 * of the lab's, plus a group `targets` of lab-1 and lab-2): `ferry migrate web1 --from lab-1 --to
 * group:targets` picks lab-2 (lab-1 is the source, never picked), moves web1 there, and says which
 * member and why, on stderr as soon as it is picked and in the report.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { deploy, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';
import { ferryWith, inventoryDir } from './helpers.ts';

const why = labUnavailable();
skipNote(why, 'a target group in the lab');

describe.skipIf(why !== null)('a target group', () => {
  let inv = '';

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 64, port: 8080 });
    inv = await inventoryDir({});
    // A second inventory source in the directory: the group, its hosts as the lab's file defines them.
    await writeFile(path.join(inv, 'targets'), '[targets]\nlab-1\nlab-2\n');
  });
  afterAll(async () => {
    await labDown();
    if (inv) await rm(path.dirname(inv), { recursive: true, force: true });
  });

  it('moves web1 from lab-1 to the member it picks, lab-2, naming the pick and why', async () => {
    const instance = await httpText('lab-1', 8080, '/instance');
    const r = await ferryWith({ FERRY_INVENTORY: inv }, ['migrate', 'web1', '--from', 'lab-1', '--to', 'group:targets', '--method', 'page-server', '--format', 'summary+json']);
    expect(r.code, r.stderr).toBe(0);
    const { report, summary } = JSON.parse(r.stdout) as { report: MigrationReport; summary: string };
    expect(report).toMatchObject({ outcome: 'migrated', from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', groupTarget: { group: 'targets' } });
    const reason = report.groupTarget!.reason;
    expect(reason).toMatch(/^lab-2 from group targets: the only member that can take it \([\d.]+ [KMGT]iB free, \d+ containers?\)\. Passed over: lab-1 \(the source\)\.$/);
    expect(summary.split('\n')[1]).toBe(`target: ${reason}`);
    expect(r.stderr).toContain(`target: ${reason}`);

    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
  });
});
