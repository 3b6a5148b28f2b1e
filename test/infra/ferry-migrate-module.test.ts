/**
 * library/ferry_migrate.py, the optional Ansible module: its documentation as ansible-doc reads it,
 * and its argument handling through a real `ansible localhost -m ferry_migrate`.
 *
 * ARGUMENT PASSING ONLY: `ferry_cli` points at a tiny recorder script that is NOT Ferry. It prints
 * back the arguments it got, in the shape of Ferry's `--format summary+json`, so the test sees what
 * the module passes (argv, --dry-run in check mode) and how it reads an answer and an exit status.
 * Nothing here migrates anything or says whether Ferry behaves; the module against the real Ferry
 * is test/ansible/migrate-playbook.test.ts, in the lab.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { NAME_PATTERN } from '../../src/util/names.ts';

for (const tool of ['ansible', 'ansible-doc']) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is not on PATH: these tests need it (scripts/setup.sh installs ansible-core)`);
  }
}

const LIBRARY = path.join(REPO_ROOT, 'library');
let dir: string;
let recorder: string;

/** The recorder (not Ferry): answers as RECORDER_ANSWER says, and writes its argv to RECORDER_LOG. */
const RECORDER = `#!/usr/bin/env python3
# NOT Ferry: records its arguments for the module's argument-handling test.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["RECORDER_LOG"], "w") as f:
    json.dump(args, f)
answer = os.environ.get("RECORDER_ANSWER", "moved")
if answer == "moved":
    print(json.dumps({"summary": "web1 moved\\ntable", "report": {"outcome": "migrated", "runsOn": "lab-2", "times": {"downtime": 1.5}}}))
elif answer == "rolled-back":
    print(json.dumps({"summary": "not moved", "report": {"outcome": "rolled-back", "runsOn": "lab-1", "error": "port 8080 is already in use on lab-2"}}))
    sys.exit(1)
elif answer == "refused":
    print(json.dumps({"summary": "ferry: no", "error": {"code": "ferry_hook_failed", "message": "the pre_migrate hook failed"}}))
    sys.exit(1)
elif answer == "nothing":
    sys.stderr.write("usage: ferry migrate ...\\n")
    sys.exit(2)
`;

async function adhoc(args: Record<string, unknown>, opts: { answer?: string; check?: boolean } = {}) {
  const log = path.join(dir, `argv-${Math.random().toString(16).slice(2)}.json`);
  const tree = await mkdtemp(path.join(dir, 'tree-'));
  const r = await execa('ansible', ['localhost', '-m', 'ferry_migrate', '-a', JSON.stringify(args), '--tree', tree, ...(opts.check ? ['--check'] : [])], {
    reject: false,
    env: { ANSIBLE_LIBRARY: LIBRARY, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0', RECORDER_LOG: log, RECORDER_ANSWER: opts.answer ?? 'moved' },
  });
  const result = JSON.parse(await readFile(path.join(tree, 'localhost'), 'utf8')) as Record<string, unknown>;
  const argv = await readFile(log, 'utf8').then((t) => JSON.parse(t) as string[], () => null);
  return { code: r.exitCode, result, argv };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-module-'));
  recorder = path.join(dir, 'recorder');
  await writeFile(recorder, RECORDER);
  await chmod(recorder, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry_migrate documentation', () => {
  it('is read by ansible-doc, with every option, the examples and the return values', async () => {
    const r = await execa('ansible-doc', ['-M', LIBRARY, '-j', 'ferry_migrate'], { env: { ANSIBLE_NOCOLOR: '1' } });
    const doc = (JSON.parse(r.stdout) as Record<string, { doc: { options: Record<string, { required?: boolean; default?: unknown; type: string }> }; examples: string; return: Record<string, unknown> }>).ferry_migrate!;
    expect(Object.keys(doc.doc.options).sort()).toEqual(['container', 'ferry_cli', 'method', 'source', 'target']);
    expect(doc.doc.options.container).toMatchObject({ required: true, type: 'str' });
    expect(doc.doc.options.method).toMatchObject({ default: 'auto' });
    expect(doc.examples).toContain('ferry_migrate:');
    expect(Object.keys(doc.return)).toEqual(expect.arrayContaining(['report', 'plan', 'error', 'summary', 'rc']));
    const text = await execa('ansible-doc', ['-M', LIBRARY, 'ferry_migrate'], { env: { ANSIBLE_NOCOLOR: '1' } });
    expect(text.stdout).toMatch(/^> FERRY_MIGRATE/);
  });
});

describe('ferry_migrate name rule', () => {
  it("is Ferry's own (src/util/names.ts), anchored as Python needs", async () => {
    const m = /NAME = re\.compile\(r"([^"]+)"\)/.exec(await readFile(path.join(LIBRARY, 'ferry_migrate.py'), 'utf8'));
    expect(m?.[1]?.replace(/\\Z$/, '$')).toBe(NAME_PATTERN.source);
  });
});

describe('ferry_migrate argument handling (a recorder stands where Ferry would be)', () => {
  it('passes the names as separate arguments and returns the report', async () => {
    const r = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', method: 'page-server', ferry_cli: recorder });
    expect(r.code).toBe(0);
    expect(r.argv).toEqual(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server', '--format', 'summary+json']);
    expect(r.result).toMatchObject({ changed: true, rc: 0, report: { outcome: 'migrated', times: { downtime: 1.5 } }, summary_lines: ['web1 moved', 'table'] });
  });

  it('maps check mode to --dry-run and reports no change', async () => {
    const r = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: recorder }, { check: true });
    expect(r.argv).toEqual(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'auto', '--format', 'summary+json', '--dry-run']);
    expect(r.result).toMatchObject({ changed: false });
  });

  it('fails on a rollback, saying where the container runs', async () => {
    const r = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: recorder }, { answer: 'rolled-back' });
    expect(r.code).not.toBe(0);
    expect(r.result).toMatchObject({ rc: 1, msg: 'web1 was NOT moved: rolled back, it runs on lab-1: port 8080 is already in use on lab-2' });
  });

  it("fails on Ferry's coded error, and on an exit without an answer", async () => {
    const refused = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: recorder }, { answer: 'refused' });
    expect(refused.code).not.toBe(0);
    expect(refused.result).toMatchObject({ msg: 'ferry migrate failed: the pre_migrate hook failed [ferry_hook_failed]', error: { code: 'ferry_hook_failed' } });
    const bare = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: recorder }, { answer: 'nothing' });
    expect(bare.code).not.toBe(0);
    expect(bare.result).toMatchObject({ rc: 2, msg: 'ferry migrate exited 2: usage: ferry migrate ...' });
  });

  it.each([
    ['shell metacharacters', { container: 'web1 ; reboot' }, 'container="web1 ; reboot" is not a Ferry name'],
    ['a newline after the name', { target: 'lab-2\n' }, 'target="lab-2\\n" is not a Ferry name'],
    ['an option for a method', { method: '--json' }, 'method="--json" is not a Ferry name'],
    ['a variable to expand', { target: '$HOME' }, 'target="$HOME" is not a Ferry name'],
  ])('refuses %s before running anything', async (_what, bad, msg) => {
    const r = await adhoc({ container: 'web1', source: 'lab-1', target: 'lab-2', ferry_cli: recorder, ...bad });
    expect(r.code).not.toBe(0);
    expect(String(r.result.msg)).toContain(msg);
    expect(r.argv).toBeNull();
  });
});
