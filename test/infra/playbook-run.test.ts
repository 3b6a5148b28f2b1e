/**
 * runPlaybook against real ansible-playbook on localhost (connection local): a timeout that ends
 * the run and its task, a failure whose error carries the playbook's last lines, extra variables
 * Ansible does not template, and output streamed whole line by line. No lab, no root.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../src/errors.ts';
import { runPlaybook } from '../../src/infra/ansible.ts';

// CI has ansible-playbook (scripts/setup.sh installs ansible-core): a machine without it must fail here, not skip.
try {
  execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('ansible-playbook is not on PATH: these tests need it (scripts/setup.sh installs ansible-core)');
}

const LOCAL = 'localhost,';
let dir: string;

async function playbook(name: string, tasks: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n${tasks}`);
  return file;
}

async function rejection(p: Promise<unknown>): Promise<FerryError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FerryError);
  return e as FerryError;
}

function running(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-playbook-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runPlaybook on a real ansible-playbook', () => {
  it('stops a run that outlives its timeout, its task included, with the output so far in the error', async () => {
    // A sleep no other process on the machine runs, so pgrep finds only this one.
    const marker = `${200 + Math.floor(Math.random() * 700)}.${process.pid}`;
    const file = await playbook('sleeps.yml', `    - ansible.builtin.debug: { msg: before the sleep }\n    - ansible.builtin.command: { argv: [sleep, "${marker}"] }\n`);
    const seen: string[] = [];
    const err = await rejection(runPlaybook(file, LOCAL, { timeoutMs: 4000, onLine: (l) => seen.push(l) }));
    expect(err.code).toBe(ErrorCode.CommandTimedOut);
    expect(err.message).toContain(`ansible-playbook ${file} timed out after 4 s`);
    expect(err.message).toContain('before the sleep');
    expect(err.details?.tail).toEqual(expect.arrayContaining([expect.stringContaining('before the sleep')]));
    expect(seen.some((l) => l.includes('TASK [ansible.builtin.command]'))).toBe(true);
    // ansible-playbook ends its workers on SIGTERM: the task's process must not outlive the run.
    for (let i = 0; i < 50 && running(`sleep ${marker}`); i++) await new Promise((r) => setTimeout(r, 200));
    expect(running(`sleep ${marker}`), `sleep ${marker} still runs after the timeout`).toBe(false);
  });

  it("fails with the failing task's message in the error and its last lines in details.tail", async () => {
    const file = await playbook('fails.yml', `    - ansible.builtin.fail: { msg: "load balancer drain refused" }\n`);
    const err = await rejection(runPlaybook(file, LOCAL));
    expect(err.code).toBe(ErrorCode.CommandFailed);
    expect(err.message).toMatch(new RegExp(`^ansible-playbook ${file} failed \\(exit 2\\):`));
    expect(err.message).toMatch(/fatal: \[localhost\]: FAILED! => .*load balancer drain refused/);
    const tail = err.details?.tail as string[];
    expect(tail.at(-1)).toMatch(/^localhost\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1/);
    expect(err.details?.playbook).toBe(file);
  });

  it('passes data variables that Ansible never templates, and Ferry variables that it may', async () => {
    const out = path.join(dir, 'vars.json');
    const file = await playbook('vars.yml', `    - ansible.builtin.copy: { dest: "${out}", content: "{{ {'data': ferry_report, 'plain': greeting} | to_json }}" }\n`);
    const report = { error: "x {{ lookup('pipe', 'echo pwned') }} é\n\"q\"", times: { downtime: 1.25, preDump: null }, rounds: [{ round: 1 }] };
    const r = await runPlaybook(file, LOCAL, { dataVars: { ferry_report: report }, extraVars: { greeting: 'hi' } });
    expect(r.recap.localhost).toMatchObject({ failed: 0, changed: 1 });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual({ data: report, plain: 'hi' });
  });

  it('streams every line whole, in order', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const file = await playbook('lines.yml', `    - ansible.builtin.debug: { msg: "{{ item }}" }\n      loop: ${JSON.stringify(lines)}\n`);
    const seen: string[] = [];
    await runPlaybook(file, LOCAL, { onLine: (l) => seen.push(l) });
    const msgs = seen.map((l) => /"msg": "(line \d+ x*)"/.exec(l)?.[1]).filter((m): m is string => m !== undefined);
    expect(msgs).toEqual(lines);
  });

  it('finds Ferry’s own playbooks by name, relative to playbooks/', async () => {
    const err = await rejection(runPlaybook('no-such-playbook.yml', LOCAL, { timeoutMs: 60_000 }));
    expect(err.message).toMatch(/playbooks\/no-such-playbook\.yml/);
    expect(err.message).toMatch(/could not be found/);
  });
});
