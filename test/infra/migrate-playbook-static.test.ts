/**
 * playbooks/migrate.yml without a lab: its syntax, its name rule (the same as Ferry's), names refused
 * before Ferry is called, and a refusal from the real Ferry CLI (an unknown target, decided from a
 * hosts file before any host is contacted) read back, shown and failed on, with and without --check.
 * A real migration through the playbook is test/ansible/migrate-playbook.test.ts, in the lab.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYBOOK_DIR } from '../../src/infra/ansible.ts';
import { NAME_PATTERN } from '../../src/util/names.ts';
import { REPO_ROOT } from '../../src/config.ts';
import { METHODS } from '../../src/migrate/methods.ts';

try {
  execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('ansible-playbook is not on PATH: these tests need it (scripts/setup.sh installs ansible-core)');
}

const PLAYBOOK = path.join(PLAYBOOK_DIR, 'migrate.yml');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';
let dir: string;
let env: Record<string, string>;

async function play(vars: Record<string, unknown>, ...extra: string[]) {
  const r = await execa('ansible-playbook', [PLAYBOOK, '--extra-vars', JSON.stringify(vars), ...extra], { reject: false, env, cwd: dir });
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-yml-'));
  const host = (name: string) => ({ name, address: '192.0.2.1', port: 22, user: 'root', privateKeyFile: path.join(dir, 'k'), hostKey: KEY });
  await writeFile(path.join(dir, 'hosts.json'), JSON.stringify({ environment: 'local', knownHostsFile: '', inventoryFile: path.join(dir, 'inventory.ini'), hosts: [host('lab-1'), host('lab-2')] }));
  env = {
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: '0',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    FERRY_HOSTS_FILE: path.join(dir, 'hosts.json'),
    FERRY_LAB_DIR: dir,
    FERRY_INVENTORY: '',
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the AWX and Semaphore templates (docs/ansible)', () => {
  const docs = path.join(REPO_ROOT, 'docs', 'ansible');

  it("ask for exactly the playbook's variables, and offer every method Ferry has", async () => {
    const awx = JSON.parse(await readFile(path.join(docs, 'awx-survey.json'), 'utf8')) as { spec: { variable: string; required: boolean; choices?: string[] }[] };
    expect(awx.spec.map((q) => q.variable)).toEqual(['container', 'source', 'target', 'method']);
    expect(awx.spec.find((q) => q.variable === 'method')!.choices).toEqual(['auto', ...METHODS]);
    const sem = JSON.parse(await readFile(path.join(docs, 'semaphore-template.json'), 'utf8')) as { playbook: string; survey_vars: { name: string; values?: { value: string }[] }[] };
    expect(sem.playbook).toBe('playbooks/migrate.yml');
    expect(sem.survey_vars.map((v) => v.name)).toEqual(['container', 'source', 'target', 'method']);
    expect(sem.survey_vars.find((v) => v.name === 'method')!.values!.map((v) => v.value)).toEqual(['auto', ...METHODS]);
  });
});

describe('playbooks/migrate.yml', () => {
  it('passes ansible-playbook --syntax-check', async () => {
    const r = await execa('ansible-playbook', ['--syntax-check', PLAYBOOK], { reject: false, env });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it("checks names with Ferry's own rule (src/util/names.ts), anchored as Python needs", async () => {
    const m = /ferry_name_pattern: '([^']+)'/.exec(await readFile(PLAYBOOK, 'utf8'));
    expect(m?.[1]).toBeDefined();
    // Python's $ matches before a final newline too; \Z is JavaScript's $ without the m flag.
    expect(m![1]!.replace(/\\Z$/, '$')).toBe(NAME_PATTERN.source);
  });

  it.each([
    ['a newline after the name', { container: 'web1\n', source: 'lab-1', target: 'lab-2' }],
    ['shell metacharacters', { container: 'web1', source: 'lab-1;reboot', target: 'lab-2' }],
    ['an option for a method', { container: 'web1', source: 'lab-1', target: 'lab-2', method: '--json' }],
    ['a missing target', { container: 'web1', source: 'lab-1' }],
  ])('refuses %s before Ferry is called', async (_what, vars) => {
    // ferry_cli names nothing: had Ferry been called, the error would say the file is missing.
    const r = await play({ ...vars, ferry_cli: path.join(dir, 'no-such-ferry') });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("must each be 1-31 characters: lowercase letters, digits and '-', starting with a letter");
    expect(r.out).not.toContain('TASK [Migrate with Ferry');
  });

  it("shows Ferry's refusal and fails, with and without --check (the real CLI: an unknown target, no host contacted)", async () => {
    for (const extra of [[], ['--check']]) {
      const r = await play({ container: 'web1', source: 'lab-1', target: 'lab-9' }, ...extra);
      expect(r.code, r.out).toBe(2);
      // The summary Ferry printed, then the failure.
      expect(r.out).toContain(`"ferry: unknown host 'lab-9': did you mean lab-1 or lab-2? [ferry_unknown_host]"`);
      expect(r.out).toMatch(/fatal: \[localhost\]: FAILED! => .*"msg": "ferry migrate failed: unknown host 'lab-9': did you mean lab-1 or lab-2\? \[ferry_unknown_host\]"/);
    }
  });
});
