import { describe, expect, it } from 'vitest';
import { hookFailureLines, hookVars, resolveHooks, withHookWarnings } from '../../../src/app/hooks.ts';
import { ErrorCode } from '../../../src/errors.ts';
import type { HostSpec, HostsFile } from '../../../src/hosts/inventory.ts';
import type { MigrationRequest } from '../../../src/migrate/request.ts';
import { catchFerry } from '../catch-ferry.ts';
import { report } from '../chat/fixtures.ts';

const host = (name: string, hooks?: HostSpec['hooks'], environment = 'prod'): HostSpec => ({
  name,
  address: '192.0.2.1',
  port: 22,
  user: 'root',
  privateKeyFile: '/k',
  hostKey: 'ssh-ed25519 AAAA',
  environment,
  ...(hooks ? { hooks } : {}),
});

const file = (...hosts: HostSpec[]): HostsFile => ({ environment: 'prod', knownHostsFile: '', inventoryFile: '/etc/ansible/fleet', hosts });

const req: MigrationRequest = { id: 'm-20260101000000-abcdef', container: 'web1', from: 'lab-1', to: 'lab-2', method: 'auto', requestedBy: 'U0ALICE01' };

describe('resolveHooks', () => {
  it('takes the hooks the source and the target name, each playbook once, source first', () => {
    const plan = resolveHooks(
      file(
        host('lab-1', { pre_migrate: '/hooks/drain.yml', post_migrate: 'hooks/dns.yml' }),
        host('lab-2', { pre_migrate: '/hooks/drain.yml', on_rollback: '/hooks/undrain.yml', post_migrate: '/hooks/b-dns.yml' }, 'other'),
      ),
      req,
      '/etc/ansible/fleet',
    );
    expect(plan).toEqual({
      pre_migrate: [{ hook: 'pre_migrate', playbook: '/hooks/drain.yml', namedBy: ['lab-1', 'lab-2'] }],
      post_migrate: [
        { hook: 'post_migrate', playbook: '/etc/ansible/fleet/hooks/dns.yml', namedBy: ['lab-1'] },
        { hook: 'post_migrate', playbook: '/hooks/b-dns.yml', namedBy: ['lab-2'] },
      ],
      on_rollback: [{ hook: 'on_rollback', playbook: '/hooks/undrain.yml', namedBy: ['lab-2'] }],
    });
  });

  it('has nothing to run when no host names a hook, and ignores hosts outside the migration', () => {
    const plan = resolveHooks(file(host('lab-1'), host('lab-2'), host('lab-3', { pre_migrate: '/x.yml' })), req, null);
    expect(plan).toEqual({ pre_migrate: [], post_migrate: [], on_rollback: [] });
  });

  it('resolves the same relative path named by two hosts to one playbook', () => {
    const plan = resolveHooks(file(host('lab-1', { on_rollback: './a/../undo.yml' }), host('lab-2', { on_rollback: 'undo.yml' })), req, '/inv');
    expect(plan.on_rollback).toEqual([{ hook: 'on_rollback', playbook: '/inv/undo.yml', namedBy: ['lab-1', 'lab-2'] }]);
  });

  it('refuses a relative path when the inventory is no file or directory (a host list)', () => {
    const e = catchFerry(() => resolveHooks(file(host('lab-1', { pre_migrate: 'drain.yml' }), host('lab-2')), req, null), ErrorCode.ConfigInvalid);
    expect(e.message).toMatch(/ferry_pre_migrate of lab-1 is a relative path \("drain\.yml"\).*give an absolute path/);
  });

  it('refuses hosts the inventory does not have, as every command does', () => {
    catchFerry(() => resolveHooks(file(host('lab-1')), req, null), ErrorCode.UnknownHost);
  });
});

describe('hookVars', () => {
  it('gives pre_migrate the request, every name prefixed ferry_', () => {
    expect(hookVars('pre_migrate', req)).toEqual({
      ferry_hook: 'pre_migrate',
      ferry_migration_id: req.id,
      ferry_container: 'web1',
      ferry_source: 'lab-1',
      ferry_target: 'lab-2',
      ferry_method: 'auto',
      ferry_requested_by: 'U0ALICE01',
    });
  });

  it('gives post_migrate the report, its timings included, and the method that ran', () => {
    const r = report({ id: req.id, from: 'lab-1', to: 'lab-2', runsOn: 'lab-2' });
    const v = hookVars('post_migrate', req, { report: r });
    expect(v).toMatchObject({ ferry_hook: 'post_migrate', ferry_method: 'pc-ps-rsync', ferry_outcome: 'migrated', ferry_report: r });
    expect((v.ferry_report as typeof r).times.downtime).toBe(r.times.downtime);
  });

  it('gives on_rollback the report of a rollback, or the error and a null report when there is none', () => {
    const r = report({ outcome: 'rolled-back', runsOn: 'lab-1' });
    expect(hookVars('on_rollback', req, { report: r })).toMatchObject({ ferry_outcome: 'rolled-back', ferry_report: r });
    const error = { code: ErrorCode.PreflightFailed, message: 'port 8080 is already in use on lab-2' };
    const v = hookVars('on_rollback', req, { error });
    expect(v).toMatchObject({ ferry_outcome: 'failed', ferry_report: null, ferry_error: error, ferry_method: 'auto' });
  });
});

describe('hookFailureLines', () => {
  const tail = [
    'TASK [Drain web1 from the load balancer] ***************************************',
    'fatal: [localhost]: FAILED! => {"changed": false, "msg": "lb-1 refused: 3 active sessions"}',
    '',
    'PLAY RECAP *********************************************************************',
    'localhost                  : ok=1    changed=0    unreachable=0    failed=1    skipped=0',
  ];

  it("quotes the failing tasks' lines", () => {
    expect(hookFailureLines(tail)).toEqual(['fatal: [localhost]: FAILED! => {"changed": false, "msg": "lb-1 refused: 3 active sessions"}']);
  });

  it("quotes ansible-playbook's own errors", () => {
    expect(hookFailureLines(['ERROR! the playbook: /hooks/drain.yml could not be found'])).toEqual(['ERROR! the playbook: /hooks/drain.yml could not be found']);
  });

  it('falls back to the last lines that are not headers or the recap', () => {
    const t = ['TASK [wait] ****', 'ok: [localhost]', 'some output', 'PLAY RECAP ****', 'localhost : ok=2 changed=0 unreachable=0 failed=0'];
    expect(hookFailureLines(t)).toEqual(['ok: [localhost]', 'some output']);
  });

  it('clips a huge line', () => {
    const [line] = hookFailureLines([`fatal: [x]: FAILED! => ${'y'.repeat(5000)}`]);
    expect(line!.length).toBeLessThanOrEqual(501);
    expect(line!.endsWith('…')).toBe(true);
  });
});

describe('withHookWarnings', () => {
  it('leaves a report alone when every hook passed', () => {
    const r = report();
    expect(withHookWarnings(r, [])).toBe(r);
  });

  it('adds a failed post_migrate as a warning that says the move stands, after the warnings already there', () => {
    const r = withHookWarnings(report({ warnings: ['cleanup of lab-1 left a file'] }), ['the post_migrate hook /h/dns.yml failed (exit 2): fatal: …']);
    expect(r.outcome).toBe('migrated');
    expect(r.warnings).toEqual(['cleanup of lab-1 left a file', 'the post_migrate hook /h/dns.yml failed (exit 2): fatal: …; the move stands']);
  });

  it('adds a failed on_rollback to a rolled-back report as it is', () => {
    const r = withHookWarnings(report({ outcome: 'rolled-back' }), ['the on_rollback hook /h/undo.yml timed out after 600 s']);
    expect(r.warnings).toEqual(['the on_rollback hook /h/undo.yml timed out after 600 s']);
  });
});
