import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DryRunResult } from '../../../src/app/plan.ts';
import { describeEvent, formatResult, reportText } from '../../../src/cli/commands/migrate.ts';
import { main, type Output } from '../../../src/cli/main.ts';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { renderReport } from '../../../src/migrate/report.ts';
import { report } from '../chat/fixtures.ts';

const plan: DryRunResult = {
  dryRun: true,
  method: 'page-server',
  reason: 'no soft-dirty tracking on lab-1',
  plan: 'move web1 from lab-1 to lab-2 with page-server; terraform plan (local): no changes',
  provisionCheck: { 'lab-1': { changed: 0, failed: 0 }, 'lab-2': { changed: 1, failed: 0 } },
  blockers: ['precopy: lab-1 has no soft-dirty tracking'],
  hooks: ['pre_migrate: /h/drain.yml'],
};

describe('formatResult', () => {
  it('text is the table Ferry always printed', () => {
    const r = report();
    expect(formatResult('text', { report: r })).toBe(renderReport(r));
    expect(reportText(r)).toBe(renderReport(r));
  });

  it('json is the report itself, or {error} for a failure', () => {
    const r = report();
    expect(JSON.parse(formatResult('json', { report: r }))).toEqual(r);
    const e = new FerryError(ErrorCode.HookFailed, 'the pre_migrate hook failed', { details: { hook: 'pre_migrate' } });
    expect(JSON.parse(formatResult('json', { error: e }))).toEqual({ error: { code: 'ferry_hook_failed', message: 'the pre_migrate hook failed', details: { hook: 'pre_migrate' } } });
  });

  it('summary+json holds the same text and the data, for a report, a plan and a failure', () => {
    const r = report({ warnings: ['the post_migrate hook /h/dns.yml failed (exit 2); the move stands'] });
    expect(JSON.parse(formatResult('summary+json', { report: r }))).toEqual({ summary: renderReport(r), report: r });
    expect(renderReport(r)).toContain('warning: the post_migrate hook /h/dns.yml failed (exit 2); the move stands');

    const p = JSON.parse(formatResult('summary+json', { plan })) as { summary: string; plan: DryRunResult };
    expect(p.plan).toEqual(plan);
    expect(p.summary.split('\n')).toEqual([
      'dry run: would move web1 from lab-1 to lab-2 with page-server; terraform plan (local): no changes',
      'why: no soft-dirty tracking on lab-1',
      'provision check on lab-1: 0 change(s), 0 failure(s)',
      'provision check on lab-2: 1 change(s), 0 failure(s)',
      'methods these hosts cannot run: precopy: lab-1 has no soft-dirty tracking',
      'hooks that would run: pre_migrate: /h/drain.yml',
      'nothing was frozen or changed',
    ]);

    const e = new FerryError(ErrorCode.HookFailed, 'the pre_migrate hook /h/drain.yml failed (exit 2)');
    expect(JSON.parse(formatResult('summary+json', { error: e }))).toEqual({
      summary: "ferry: the pre_migrate hook /h/drain.yml failed (exit 2) [ferry_hook_failed]\nferry: nothing was frozen: fix what the hook's playbook reports (its output is above), then ask again",
      error: { code: 'ferry_hook_failed', message: 'the pre_migrate hook /h/drain.yml failed (exit 2)' },
    });
  });
});

describe('formatResult with a target group', () => {
  const reason = 'lab-2 from group cloud-b: the only member that can take it (2.0 GiB free, 0 containers). Passed over: lab-1 (the source).';

  it('the dry run says which member would be picked and why', () => {
    const p: DryRunResult = { ...plan, plan: 'move web1 from lab-1 to lab-2 (picked from group cloud-b) with page-server; terraform plan (local): no changes', target: { group: 'cloud-b', host: 'lab-2', reason } };
    const lines = formatResult('text', { plan: p }).split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'dry run: would move web1 from lab-1 to lab-2 (picked from group cloud-b) with page-server; terraform plan (local): no changes',
      'why: no soft-dirty tracking on lab-1',
      `target: ${reason}`,
    ]);
    expect((JSON.parse(formatResult('json', { plan: p })) as DryRunResult).target).toEqual({ group: 'cloud-b', host: 'lab-2', reason });
  });

  it('the report names the pick and why, in its text and its JSON', () => {
    const r = report({ from: 'lab-1', to: 'lab-2', runsOn: 'lab-2', groupTarget: { group: 'cloud-b', reason } });
    expect(formatResult('text', { report: r }).split('\n')[1]).toBe(`target: ${reason}`);
    expect(JSON.parse(formatResult('json', { report: r }))).toMatchObject({ to: 'lab-2', groupTarget: { group: 'cloud-b', reason } });
  });

  it('the progress on stderr says it as soon as it is picked', () => {
    expect(describeEvent({ type: 'target', group: 'cloud-b', host: 'lab-2', reason })).toBe(`target: ${reason}`);
  });
});

function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

describe('ferry migrate flags', () => {
  let dir = '';
  const saved: Record<string, string | undefined> = {};
  const VARS = ['FERRY_HOSTS_FILE', 'FERRY_INVENTORY', 'FERRY_LAB_DIR'];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-fmt-'));
    const hostsFile = path.join(dir, 'hosts.json');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';
    const host = (name: string) => ({ name, address: '192.0.2.1', port: 22, user: 'root', privateKeyFile: path.join(dir, 'k'), hostKey: key });
    writeFileSync(hostsFile, JSON.stringify({ environment: 'local', knownHostsFile: '', inventoryFile: path.join(dir, 'inventory.ini'), hosts: [host('lab-1'), host('lab-2')] }));
    for (const k of VARS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.FERRY_HOSTS_FILE = hostsFile;
    process.env.FERRY_LAB_DIR = dir;
  });
  afterAll(() => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [['--format', 'yaml'], /--format must be one of text, json, summary\+json \(got 'yaml'\)/],
    [['--json', '--format', 'summary+json'], /--json and --format summary\+json exclude each other/],
    [['--dry-run', '--probe', '5'], /--probe needs a migration to watch: it does not go with --dry-run/],
  ])('refuses %j as a usage error', async (flags, message) => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', ...flags], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stdout()).toBe('');
  });

  it('prints a failure as JSON on stdout too, and still fails with 1 (no host contacted: the target is unknown)', async () => {
    for (const extra of [[], ['--dry-run']]) {
      const io = collect();
      expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-9', '--format', 'summary+json', ...extra], io)).toBe(1);
      const out = JSON.parse(io.stdout()) as { summary: string; error: { code: string; message: string } };
      expect(out.error.code).toBe('ferry_unknown_host');
      expect(out.error.message).toMatch(/^unknown host 'lab-9': did you mean lab-1 or lab-2\?/);
      expect(out.summary).toMatch(/^ferry: unknown host 'lab-9'.*\[ferry_unknown_host\]/);
      expect(io.stderr()).toMatch(/ferry: unknown host 'lab-9'/);
    }
  });

  it('keeps stdout empty on a failure in text format', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-9'], io)).toBe(1);
    expect(io.stdout()).toBe('');
  });
});
