/**
 * A target group in the namespace lab, the hosts read from an inventory Ferry did not render: a
 * YAML inventory directory written here as a team would (hosts in `hosts.yml`, connection settings
 * in `group_vars`, addresses in `host_vars`, one host key pinned by `ansible_ssh_host_key_*`, the
 * other found in the known_hosts file that `ansible_ssh_common_args` names). Ansible itself pings
 * both through it; `ferry migrate web1 --from lab-1 --to group:targets` picks lab-2 (lab-1 is the
 * source, never picked), moves web1 there, and says which member and why, on stderr as soon as it
 * is picked and in the report.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { config, deploy, hostsFile, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';
import { ferryWith } from './helpers.ts';

/** The lab's hosts as a hand-written YAML inventory directory (JSON is YAML): nothing of Ferry's rendering but the addresses. */
async function handWrittenInventory(): Promise<string> {
  const file = await hostsFile();
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-inv-')), 'inventory');
  for (const d of ['group_vars', 'host_vars']) await mkdir(path.join(dir, d), { recursive: true });
  const names = file.hosts.map((h) => h.name);
  const hostMap = Object.fromEntries(names.map((n) => [n, null]));
  await writeFile(path.join(dir, 'hosts.yml'), JSON.stringify({ all: { children: { site_lab: { hosts: hostMap }, targets: { hosts: hostMap } } } }));
  await writeFile(
    path.join(dir, 'group_vars', 'site_lab.yml'),
    JSON.stringify({
      ansible_user: 'root',
      ansible_ssh_private_key_file: path.join(config.labDir, 'id_ed25519'),
      ansible_ssh_common_args: `-o UserKnownHostsFile=${path.join(config.labDir, 'known_hosts')} -o StrictHostKeyChecking=yes`,
      ansible_python_interpreter: '/usr/bin/python3',
      ferry_environment: 'local',
    }),
  );
  for (const h of file.hosts) {
    const vars: Record<string, unknown> = { ansible_host: h.address, ansible_port: h.port };
    // lab-2's key pinned in the inventory itself; lab-1's comes from the known_hosts file above.
    if (h.name === 'lab-2') vars.ansible_ssh_host_key_ed25519_public = h.hostKey.split(/\s+/)[1];
    await writeFile(path.join(dir, 'host_vars', `${h.name}.yml`), JSON.stringify(vars));
  }
  return dir;
}

const why = labUnavailable();
skipNote(why, 'a target group in the lab');

describe.skipIf(why !== null)('a target group', () => {
  let inv = '';

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 64, port: 8080 });
    inv = await handWrittenInventory();
  });
  afterAll(async () => {
    await labDown();
    if (inv) await rm(path.dirname(inv), { recursive: true, force: true });
  });

  it('Ansible reaches both hosts through the hand-written inventory, and ferry hosts lists them with its groups', async () => {
    const ping = execFileSync('ansible', ['all', '-i', inv, '-m', 'ping', '-o'], { encoding: 'utf8' });
    expect(ping).toMatch(/lab-1 \| SUCCESS/);
    expect(ping).toMatch(/lab-2 \| SUCCESS/);
    const r = await ferryWith({ FERRY_INVENTORY: inv }, ['hosts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const hosts = JSON.parse(r.stdout) as { host: string; groups: string[] }[];
    expect(hosts.map((h) => [h.host, [...h.groups].sort()])).toEqual([
      ['lab-1', ['site_lab', 'targets']],
      ['lab-2', ['site_lab', 'targets']],
    ]);
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
