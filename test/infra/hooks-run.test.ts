/**
 * Hook playbooks run by real ansible-playbook on localhost (connection local), no lab: a failing
 * pre_migrate stops before the migration with its output's tail in the error; post_migrate and
 * on_rollback hooks get the report (written to a file the test reads); a hook past its timeout is
 * stopped; output arrives in batches. The migration itself (`inner`) is never reached in these
 * tests: where it is passed, it only records that it was not called. What hooks do around a real
 * migration is test/ansible/hooks.test.ts, in the lab.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookVars, resolveHooks, runAfterHooks, runPreHooks, runWithHooks, type HookOutput } from '../../src/app/hooks.ts';
import { loadConfig } from '../../src/config.ts';
import { ErrorCode, FerryError } from '../../src/errors.ts';
import type { HostSpec, HostsFile } from '../../src/hosts/inventory.ts';
import type { MigrationRequest } from '../../src/migrate/request.ts';
import { report } from '../unit/chat/fixtures.ts';

try {
  execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('ansible-playbook is not on PATH: these tests need it (scripts/setup.sh installs ansible-core)');
}

const config = { ...loadConfig({}), hookTimeoutS: 120 };
const req: MigrationRequest = { id: 'm-20260101000000-abcdef', container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server', requestedBy: 'cli:alice' };
let dir: string;
let inventory: string;

const host = (name: string, hooks?: HostSpec['hooks']): HostSpec => ({
  name,
  address: '192.0.2.1',
  port: 22,
  user: 'root',
  privateKeyFile: '/k',
  hostKey: 'ssh-ed25519 AAAA',
  environment: 'prod',
  ...(hooks ? { hooks } : {}),
});

async function playbook(name: string, tasks: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks}`);
  return file;
}

/** A hook that writes every ferry_ variable it got to `out` as JSON. */
const recorder = (out: string) =>
  `    - ansible.builtin.copy:\n        dest: "${out}"\n        content: "{{ {'hook': ferry_hook, 'id': ferry_migration_id, 'container': ferry_container, 'source': ferry_source, 'target': ferry_target, 'method': ferry_method, 'outcome': ferry_outcome | default(None), 'report': ferry_report | default(None), 'error': ferry_error | default(None)} | to_json }}"\n`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-hooks-'));
  inventory = path.join(dir, 'inventory.ini');
  await writeFile(inventory, 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a failing pre_migrate hook', () => {
  it('stops the migration before it starts, with the failing task in the error and its output tail in details', async () => {
    await playbook('drain.yml', `    - ansible.builtin.debug: { msg: "draining {{ ferry_container }} from {{ ferry_source }}" }\n    - ansible.builtin.fail: { msg: "lb-1 refused to drain {{ ferry_container }}" }\n`);
    // Relative to the inventory's directory, as an inventory's group_vars would name it.
    const hosts: HostsFile = { environment: 'prod', knownHostsFile: '', inventoryFile: inventory, hosts: [host('lab-1', { pre_migrate: 'drain.yml', on_rollback: 'never.yml' }), host('lab-2')] };
    const out: HookOutput[] = [];
    let innerCalled = false;
    const e = await runWithHooks(req, { config, hosts, onHookOutput: (o) => out.push(o), hookBatches: { maxLines: 4, maxMs: 60_000 } }, async () => {
      innerCalled = true;
      throw new Error('the migration must not start');
    }).catch((x: unknown) => x);

    expect(innerCalled).toBe(false);
    expect(e).toBeInstanceOf(FerryError);
    const err = e as FerryError;
    expect(err.code).toBe(ErrorCode.HookFailed);
    expect(err.message).toContain(`the pre_migrate hook ${path.join(dir, 'drain.yml')} failed (exit 2): fatal: [localhost]: FAILED!`);
    expect(err.message).toContain('lb-1 refused to drain web1');
    expect(err.message).toContain('so Ferry stopped before touching web1 (nothing was frozen; it runs where it ran, on lab-1)');
    expect(err.details).toMatchObject({ hook: 'pre_migrate', playbook: path.join(dir, 'drain.yml') });
    expect((err.details?.tail as string[]).some((l) => l.includes('lb-1 refused to drain web1'))).toBe(true);

    // Its output came as it ran, in batches of at most 4 lines, all from pre_migrate: on_rollback never ran.
    expect(out.every((o) => o.hook === 'pre_migrate' && o.lines.length >= 1 && o.lines.length <= 4)).toBe(true);
    const lines = out.flatMap((o) => o.lines);
    expect(lines[0]).toBe(`ferry: running the pre_migrate hook ${path.join(dir, 'drain.yml')} (named by lab-1)`);
    expect(lines.some((l) => l.includes('"msg": "draining web1 from lab-1"'))).toBe(true);
    expect(lines.some((l) => /^fatal: \[localhost\]: FAILED!.*lb-1 refused to drain web1/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('ferry: the pre_migrate hook failed (exit 2)');
  });

  it('is cancelled by the migration signal, as a cancel', async () => {
    const hooks = resolveHooks({ environment: 'p', knownHostsFile: '', inventoryFile: inventory, hosts: [host('lab-1', { pre_migrate: await playbook('slow.yml', '    - ansible.builtin.pause: { seconds: 600 }\n') }), host('lab-2')] }, req, dir);
    const ac = new AbortController();
    const seen: string[] = [];
    const run = runPreHooks(hooks.pre_migrate, req, {
      config,
      inventory,
      signal: ac.signal,
      batches: { maxLines: 1, maxMs: 0 },
      onHookOutput: (o) => {
        seen.push(...o.lines);
        if (o.lines.some((l) => /^TASK \[.*pause/.test(l))) ac.abort();
      },
    }).catch((x: unknown) => x);
    // Should the task's header read differently (another Ansible's callback), cancel all the same:
    // what is tested is the cancel, not when it comes.
    const fallback = setTimeout(() => ac.abort(), 30_000);
    const err = (await run) as FerryError;
    clearTimeout(fallback);
    expect(err.code).toBe(ErrorCode.Cancelled);
    expect(err.message).toContain('cancelled during its pre_migrate hook: nothing was frozen, web1 was not touched');
  });
});

describe('hooks after the migration', () => {
  it('post_migrate gets the report with its timings; a failing hook is reported and the next still runs', async () => {
    const got = path.join(dir, 'post.json');
    const a = await playbook('dns-fails.yml', '    - ansible.builtin.fail: { msg: "dns update refused" }\n');
    const b = await playbook('record.yml', recorder(got));
    const r = report({ id: req.id, from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', error: "{{ lookup('pipe', 'echo injected') }}" });
    const failures = await runAfterHooks(
      [
        { hook: 'post_migrate', playbook: a, namedBy: ['lab-1'] },
        { hook: 'post_migrate', playbook: b, namedBy: ['lab-2'] },
      ],
      hookVars('post_migrate', req, { report: r }),
      { config, inventory },
    );
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(new RegExp(`^the post_migrate hook ${a} failed \\(exit 2\\): fatal: \\[localhost\\]: FAILED! .*dns update refused`));
    const v = JSON.parse(await readFile(got, 'utf8')) as { report: typeof r };
    expect(v).toMatchObject({ hook: 'post_migrate', id: req.id, container: 'web1', source: 'lab-1', target: 'lab-2', method: 'pc-ps-rsync', outcome: 'migrated' });
    expect(v.report.times).toEqual(r.times);
    // Text from the report stays text: Ansible did not run the lookup.
    expect(v.report.error).toBe("{{ lookup('pipe', 'echo injected') }}");
  });

  it('on_rollback after an error gets the error and a null report', async () => {
    const got = path.join(dir, 'rollback.json');
    const failures = await runAfterHooks(
      [{ hook: 'on_rollback', playbook: await playbook('undo.yml', recorder(got)), namedBy: ['lab-1'] }],
      hookVars('on_rollback', req, { error: { code: ErrorCode.PreflightFailed, message: 'port 8080 is already in use on lab-2' } }),
      { config, inventory },
    );
    expect(failures).toEqual([]);
    expect(JSON.parse(await readFile(got, 'utf8'))).toMatchObject({ hook: 'on_rollback', outcome: 'failed', report: null, error: { code: 'ferry_preflight_failed', message: 'port 8080 is already in use on lab-2' }, method: 'page-server' });
  });

  it('a hook past its timeout is stopped and reported as timed out', async () => {
    const failures = await runAfterHooks(
      [{ hook: 'post_migrate', playbook: await playbook('hangs.yml', '    - ansible.builtin.command: { argv: [sleep, "600"] }\n'), namedBy: ['lab-1'] }],
      hookVars('post_migrate', req, { report: report() }),
      { config: { ...config, hookTimeoutS: 3 }, inventory },
    );
    expect(failures).toEqual([expect.stringMatching(/^the post_migrate hook .*hangs\.yml timed out after 3 s/)]);
  });
});
