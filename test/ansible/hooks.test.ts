/**
 * Hooks around real migrations in the namespace lab, the hosts read from an inventory Ferry did not
 * render (a copy of the lab's with group_vars and host_vars naming the hooks): a failing pre_migrate
 * leaves web1 running untouched on its source, with the hook's error in the report (CLI) and in the
 * chat thread (the console chat, on the same core as Slack); a post_migrate hook receives the
 * report with its timings, a failing one is a warning and the move stands; on_rollback runs after a
 * real rollback (the target's port taken at the freeze) and gets the rolled-back report.
 */
import { readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../src/app/migrate.ts';
import { MigrationEvents } from '../../src/migrate/events.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { config, debris, deploy, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';
import { consoleChat, controllerPlaybook, ferryWith, inventoryDir, recordingTasks, runcPid, squatPort } from './helpers.ts';

const why = labUnavailable();
skipNote(why, 'hooks around real migrations in the lab');

interface Recorded {
  hook: string;
  id: string;
  container: string;
  source: string;
  target: string;
  method: string;
  outcome: string | null;
  report: MigrationReport | null;
  error: { code: string; message: string } | null;
}

const recorded = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Recorded;

describe.skipIf(why !== null)('hooks around a migration', () => {
  let work: string;
  const dirs: string[] = [];

  /** An inventory directory; its hook playbooks go in ../hooks, named relative to it as a team would. */
  async function inventory(vars: Parameters<typeof inventoryDir>[0]): Promise<string> {
    const d = await inventoryDir(vars);
    dirs.push(path.dirname(d));
    return d;
  }

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 64, port: 8080 });
    work = await mkdtemp(path.join(tmpdir(), 'ferry-hooks-lab-'));
  });
  afterAll(async () => {
    await labDown();
    for (const d of [work, ...dirs]) if (d) await rm(d, { recursive: true, force: true });
  });

  describe('a failing pre_migrate hook', () => {
    let inv: string;
    const rollbackRecord = () => path.join(work, 'pre-fail-rollback.json');

    beforeAll(async () => {
      inv = await inventory({ group: { ferry_pre_migrate: '../hooks/drain.yml', ferry_on_rollback: '../hooks/undrain.yml' } });
      await controllerPlaybook(
        path.join(inv, '..', 'hooks', 'drain.yml'),
        `    - ansible.builtin.debug: { msg: "draining {{ ferry_container }} on {{ ferry_source }}" }\n    - ansible.builtin.fail: { msg: "lb-1 refused to drain {{ ferry_container }}: 3 active sessions" }\n`,
      );
      await controllerPlaybook(path.join(inv, '..', 'hooks', 'undrain.yml'), recordingTasks(rollbackRecord()));
    });

    it('leaves web1 running untouched on lab-1, with the hook error in the report', async () => {
      const pid = await runcPid('lab-1', 'web1');
      const instance = await httpText('lab-1', 8080, '/instance');
      const r = await ferryWith({ FERRY_INVENTORY: inv }, ['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server', '--format', 'summary+json']);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout) as { summary: string; error: { code: string; message: string; details: { hook: string; tail: string[] } } };
      expect(out.error.code).toBe('ferry_hook_failed');
      expect(out.error.message).toMatch(/the pre_migrate hook .*hooks\/drain\.yml failed \(exit 2\): fatal: \[localhost\]: FAILED!.*lb-1 refused to drain web1: 3 active sessions/);
      expect(out.error.message).toContain('so Ferry stopped before touching web1 (nothing was frozen');
      expect(out.error.details.hook).toBe('pre_migrate');
      expect(out.error.details.tail.join('\n')).toContain('lb-1 refused to drain web1');
      expect(out.summary).toContain('[ferry_hook_failed]');
      // The hook's output streamed on stderr as it ran; nothing of the migration itself started.
      expect(r.stderr).toMatch(/pre_migrate \| .*"msg": "draining web1 on lab-1"/);
      expect(r.stderr).not.toMatch(/container frozen|preflight/);

      expect(await runcPid('lab-1', 'web1')).toBe(pid);
      expect(await runcState('lab-1', 'web1')).toBe('running');
      expect(await runcState('lab-2', 'web1')).toBeNull();
      expect(await httpText('lab-1', 8080, '/instance')).toBe(instance);
      expect(await debris('lab-1')).toEqual([]);
      expect(await debris('lab-2')).toEqual([]);
      // on_rollback undoes what a passed pre_migrate did: after a failed one it does not run.
      expect(existsSync(rollbackRecord())).toBe(false);
    });

    it('and says so in the chat thread, hook output included (console chat)', async () => {
      const pid = await runcPid('lab-1', 'web1');
      const r = await consoleChat({ FERRY_INVENTORY: inv, FERRY_PROVISION: '0' }, ['/migrate web1 from lab-1 to lab-2 method page-server', '/as bob', '/approve', '/wait']);
      expect(r.code, r.err).toBe(0);
      const replies = r.out.split('\n').filter((l) => l.includes('↳') || l.startsWith(' '));
      // The hook's output as thread replies (in batches), its failing task among them.
      expect(r.out).toMatch(/pre_migrate` hook|pre_migrate hook/);
      expect(replies.join('\n')).toContain('lb-1 refused to drain web1: 3 active sessions');
      // The failure, with the hook's error, its code and where web1 runs.
      expect(r.out).toMatch(/Migration of web1 from lab-1 to lab-2 failed: the pre_migrate hook .*drain\.yml failed \(exit 2\)/);
      expect(r.out).toContain('ferry_hook_failed');
      expect(r.out).toMatch(/web1 runs on wherever it ran before \(nothing was frozen\)/);
      expect(await runcPid('lab-1', 'web1')).toBe(pid);
      expect(await runcState('lab-2', 'web1')).toBeNull();
    });
  });

  it('post_migrate hooks receive the report with its timings; a failing one is a warning and the move stands', async () => {
    const preRecord = path.join(work, 'pre.json');
    const postRecord = path.join(work, 'post.json');
    const inv = await inventory({
      group: { ferry_pre_migrate: '../hooks/pre.yml' },
      hosts: { 'lab-1': { ferry_post_migrate: '../hooks/record.yml' }, 'lab-2': { ferry_post_migrate: '../hooks/dns-fails.yml' } },
    });
    await controllerPlaybook(path.join(inv, '..', 'hooks', 'pre.yml'), recordingTasks(preRecord));
    await controllerPlaybook(path.join(inv, '..', 'hooks', 'record.yml'), recordingTasks(postRecord));
    await controllerPlaybook(path.join(inv, '..', 'hooks', 'dns-fails.yml'), '    - ansible.builtin.fail: { msg: "dns update refused" }\n');
    const instance = await httpText('lab-1', 8080, '/instance');

    const r = await ferryWith({ FERRY_INVENTORY: inv }, ['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server', '--format', 'summary+json']);
    expect(r.code, r.stderr).toBe(0);
    const { report, summary } = JSON.parse(r.stdout) as { report: MigrationReport; summary: string };
    expect(report).toMatchObject({ outcome: 'migrated', runsOn: 'lab-2' });
    expect(report.warnings).toEqual([expect.stringMatching(/^the post_migrate hook .*hooks\/dns-fails\.yml failed \(exit 2\): fatal: .*dns update refused.*; the move stands$/)]);
    expect(summary).toContain('warning: the post_migrate hook');

    const pre = await recorded(preRecord);
    expect(pre).toMatchObject({ hook: 'pre_migrate', id: report.id, container: 'web1', source: 'lab-1', target: 'lab-2', method: 'page-server', outcome: null, report: null });
    const post = await recorded(postRecord);
    expect(post).toMatchObject({ hook: 'post_migrate', id: report.id, outcome: 'migrated', method: 'page-server' });
    // The timings, exactly as the report has them.
    expect(post.report!.times).toEqual(report.times);
    expect(post.report!.times.downtime).toBeGreaterThan(0);
    expect(post.report!.times.total).toBeGreaterThan(0);

    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
  });

  it('on_rollback runs after a real rollback, with the rolled-back report', async () => {
    const record = path.join(work, 'rollback.json');
    const postRecord = path.join(work, 'rollback-post.json');
    const inv = await inventory({ group: { ferry_on_rollback: '../hooks/undrain.yml', ferry_post_migrate: '../hooks/post.yml' } });
    await controllerPlaybook(path.join(inv, '..', 'hooks', 'undrain.yml'), recordingTasks(record));
    await controllerPlaybook(path.join(inv, '..', 'hooks', 'post.yml'), recordingTasks(postRecord));
    const instance = await httpText('lab-2', 8080, '/instance');

    // Once web1 is frozen on lab-2, something takes its port on lab-1: the restore fails and Ferry rolls back.
    const events = new MigrationEvents();
    let squat: Promise<() => void> | undefined;
    events.on('event', (e) => {
      if (e.type === 'frozen') squat = squatPort('lab-1', 8080);
    });
    const hookLines: string[] = [];
    let report: MigrationReport;
    try {
      report = await runMigration(
        { id: newMigrationId(), container: 'web1', from: 'lab-2', to: 'lab-1', method: 'page-server' },
        { config: { ...config, inventory: inv }, events, provision: false, onHookOutput: (o) => hookLines.push(...o.lines.map((l) => `${o.hook} ${l}`)) },
      );
    } finally {
      await squat?.then(
        (stop) => stop(),
        () => undefined,
      );
    }
    expect(report.outcome).toBe('rolled-back');
    expect(report.runsOn).toBe('lab-2');
    const got = await recorded(record);
    expect(got).toMatchObject({ hook: 'on_rollback', id: report.id, outcome: 'rolled-back', source: 'lab-2', target: 'lab-1' });
    expect(got.report).toMatchObject({ outcome: 'rolled-back', runsOn: 'lab-2', error: report.error });
    expect(existsSync(postRecord)).toBe(false);
    expect(hookLines.some((l) => l.startsWith('on_rollback ferry: the on_rollback hook passed'))).toBe(true);
    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
    expect(await debris('lab-1')).toEqual([]);
    expect(await debris('lab-2')).toEqual([]);
  });
});
