/**
 * A migration from Ansible, in the namespace lab: `ansible-playbook playbooks/migrate.yml` moves web1
 * (through Ferry's real CLI), sets ferry_report, exits non-zero when the migration fails (an unknown
 * method; the target's port taken), and under --check changes nothing and says what would happen.
 * The optional module (library/ferry_migrate.py) does the same against the real Ferry.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { debris, deploy, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';
import { runcPid, squatPort } from './helpers.ts';

const why = labUnavailable();
skipNote(why, 'migrations from ansible-playbook and the ferry_migrate module in the lab');

const PLAYBOOK = path.join(REPO_ROOT, 'playbooks', 'migrate.yml');
const FERRY = path.join(REPO_ROOT, 'bin', 'ferry.js');
const ANSIBLE_ENV = { ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0', ANSIBLE_RETRY_FILES_ENABLED: '0' };

async function playbook(file: string, vars: Record<string, string>, ...extra: string[]) {
  const args = [file, ...Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`]), ...extra];
  const r = await execa('ansible-playbook', args, { reject: false, env: ANSIBLE_ENV, cwd: REPO_ROOT });
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

/** `changed=N` of localhost in the PLAY RECAP. */
const changed = (out: string) => Number(/localhost\s+: ok=\d+\s+changed=(\d+)/.exec(out)?.[1]);

describe.skipIf(why !== null)('a migration from Ansible', () => {
  let work: string;
  /** A playbook that imports migrate.yml, then writes the ferry_report fact where the test reads it. */
  let wrapper: string;
  let factFile: string;

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 64, port: 8080 });
    work = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-yml-lab-'));
    factFile = path.join(work, 'ferry_report.json');
    wrapper = path.join(work, 'wrapper.yml');
    await writeFile(
      wrapper,
      [
        `- ansible.builtin.import_playbook: ${PLAYBOOK}`,
        '- hosts: localhost',
        '  connection: local',
        '  gather_facts: false',
        '  tasks:',
        `    - ansible.builtin.copy: { dest: ${JSON.stringify(factFile)}, content: "{{ ferry_report | to_json }}" }`,
        '      check_mode: false',
        '      changed_when: false',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await labDown();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('migrates web1, prints the summary and sets ferry_report', async () => {
    const instance = await httpText('lab-1', 8080, '/instance');
    // Imported from another playbook, migrate.yml's default path to Ferry would be relative to the wrapper: name it.
    const r = await playbook(wrapper, { container: 'web1', source: 'lab-1', target: 'lab-2', method: 'page-server', ferry_cli: FERRY });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"web1 moved from lab-1 to lab-2');
    expect(r.out).toMatch(/Downtime \(s\)/);
    const report = JSON.parse(await readFile(factFile, 'utf8')) as MigrationReport;
    expect(report).toMatchObject({ outcome: 'migrated', container: 'web1', from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', method: 'page-server' });
    expect(report.times.downtime).toBeGreaterThan(0);
    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
  });

  it('as documented: ansible-playbook playbooks/migrate.yml -e container=web1 -e source=lab-2 -e target=lab-1', async () => {
    const r = await playbook(PLAYBOOK, { container: 'web1', source: 'lab-2', target: 'lab-1' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"web1 moved from lab-2 to lab-1');
    expect(changed(r.out)).toBe(1);
    expect(await runcState('lab-1', 'web1')).toBe('running');
    expect(await runcState('lab-2', 'web1')).toBeNull();
  });

  it('--check changes nothing and reports what would happen', async () => {
    const pid = await runcPid('lab-1', 'web1');
    const instance = await httpText('lab-1', 8080, '/instance');
    const r = await playbook(wrapper, { container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: FERRY }, '--check');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"dry run: would move web1 from lab-1 to lab-2 with page-server');
    expect(r.out).toContain('"nothing was frozen or changed"');
    expect(changed(r.out)).toBe(0);
    const plan = JSON.parse(await readFile(factFile, 'utf8')) as { dryRun: boolean; method: string };
    expect(plan).toMatchObject({ dryRun: true, method: 'page-server' });
    expect(await runcPid('lab-1', 'web1')).toBe(pid);
    expect(await runcState('lab-2', 'web1')).toBeNull();
    expect(await httpText('lab-1', 8080, '/instance')).toBe(instance);
    expect(await debris('lab-1')).toEqual([]);
    expect(await debris('lab-2')).toEqual([]);
  });

  it('exits non-zero when Ferry refuses the method, and web1 stays where it is', async () => {
    const pid = await runcPid('lab-1', 'web1');
    const r = await playbook(PLAYBOOK, { container: 'web1', source: 'lab-1', target: 'lab-2', method: 'teleport' });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/fatal: \[localhost\]: FAILED!.*unknown method 'teleport'/);
    expect(await runcPid('lab-1', 'web1')).toBe(pid);
    expect(await runcState('lab-2', 'web1')).toBeNull();
  });

  it("exits non-zero when the migration fails (web1's port taken on the target), and web1 stays where it is", async () => {
    const pid = await runcPid('lab-1', 'web1');
    const stop = await squatPort('lab-2', 8080);
    let r: Awaited<ReturnType<typeof playbook>>;
    try {
      r = await playbook(PLAYBOOK, { container: 'web1', source: 'lab-1', target: 'lab-2' });
    } finally {
      stop();
    }
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/fatal: \[localhost\]: FAILED!.*"msg": "ferry migrate failed: port 8080 is already in use on lab-2.*\[ferry_preflight_failed\]"/);
    expect(await runcPid('lab-1', 'web1')).toBe(pid);
    expect(await runcState('lab-2', 'web1')).toBeNull();
    expect(await debris('lab-2')).toEqual([]);
  });

  describe('the ferry_migrate module against the real Ferry', () => {
    async function adhoc(args: Record<string, string>, check: boolean) {
      const tree = await mkdtemp(path.join(work, 'tree-'));
      const r = await execa('ansible', ['localhost', '-m', 'ferry_migrate', '-a', JSON.stringify({ ...args, ferry_cli: FERRY }), '--tree', tree, ...(check ? ['--check'] : [])], {
        reject: false,
        env: { ...ANSIBLE_ENV, ANSIBLE_LIBRARY: path.join(REPO_ROOT, 'library') },
      });
      return { code: r.exitCode, result: JSON.parse(await readFile(path.join(tree, 'localhost'), 'utf8')) as { changed: boolean; report?: MigrationReport; plan?: { dryRun: boolean } } };
    }

    it('in check mode changes nothing, then moves web1', async () => {
      const pid = await runcPid('lab-1', 'web1');
      const dry = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2' }, true);
      expect(dry.code).toBe(0);
      expect(dry.result).toMatchObject({ changed: false, plan: { dryRun: true } });
      expect(await runcPid('lab-1', 'web1')).toBe(pid);

      const moved = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', method: 'page-server' }, false);
      expect(moved.code).toBe(0);
      expect(moved.result).toMatchObject({ changed: true, report: { outcome: 'migrated', runsOn: 'lab-2' } });
      expect(await runcState('lab-2', 'web1')).toBe('running');
    });
  });
});
