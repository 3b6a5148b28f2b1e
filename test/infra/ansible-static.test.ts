/**
 * `ansible-playbook --syntax-check` of every playbook in playbooks/ (roles included): no hosts are
 * contacted, so it needs neither the lab nor root.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PLAYBOOK_DIR } from '../../src/infra/ansible.ts';

// CI has ansible-playbook (scripts/setup.sh installs ansible-core): a machine without it must fail here, not skip.
try {
  execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('ansible-playbook is not on PATH: the syntax checks need it (scripts/setup.sh installs ansible-core)');
}

const playbooks = readdirSync(PLAYBOOK_DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort();

describe('playbooks/', () => {
  it('holds the playbooks Ferry runs', () => {
    expect(playbooks).toEqual(expect.arrayContaining(['cloud-host.yml', 'haproxy.yml', 'migrate.yml', 'provision.yml', 'workload.yml']));
  });

  it.each(playbooks)('%s passes ansible-playbook --syntax-check', async (file) => {
    const r = await execa('ansible-playbook', ['--syntax-check', '-i', 'localhost,', path.join(PLAYBOOK_DIR, file)], {
      reject: false,
      env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' },
    });
    expect(`${r.stdout}\n${r.stderr}`.trim(), `exit ${r.exitCode}`).toContain(`playbook: ${path.join(PLAYBOOK_DIR, file)}`);
    expect(r.exitCode).toBe(0);
  });
});
