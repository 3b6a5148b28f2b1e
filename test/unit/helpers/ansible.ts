import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { runLocal } from '../../../src/util/run-local.ts';

/**
 * Why tests that run these tools (Ansible's, ssh-keygen) cannot run here, or '' when they can:
 * they need nothing else, no root and no lab.
 */
export function toolsMissing(tools: readonly string[]): string {
  const missing = tools.filter((t) => !(process.env.PATH ?? '').split(':').some((d) => isExecutable(path.join(d, t))));
  return missing.length ? `needs ${missing.join(', ')} on PATH: install ansible-core and openssh-client (scripts/setup.sh does)` : '';
}

function isExecutable(f: string): boolean {
  try {
    accessSync(f, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** One host as Ansible itself renders it for a task. */
export interface AnsibleHostView {
  address: string;
  port: number;
  user: string;
  groups: string[];
  /** `ansible_ssh_private_key_file`, '' when unset. */
  key: string;
}

/**
 * Each host of an inventory as Ansible renders it for a task on the controller (`ansible all -m
 * debug`: vaults decrypted, group and host variables merged, `group_names`); nothing connects to
 * the hosts.
 */
export async function ansibleHostViews(source: string, opts: { vaultPasswordFile?: string } = {}): Promise<Record<string, AnsibleHostView>> {
  const msg = `{{ {'address': ansible_host | default(inventory_hostname), 'port': ansible_port | default(22) | int, 'user': ansible_user, 'groups': group_names, 'key': ansible_ssh_private_key_file | default('') } }}`;
  const vault = opts.vaultPasswordFile ? ['--vault-password-file', opts.vaultPasswordFile] : [];
  const r = await runLocal('ansible', ['all', '-i', source, ...vault, '-o', '-m', 'debug', '-a', `msg=${msg}`], { env: { ANSIBLE_NOCOLOR: '1' } });
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes(' | SUCCESS => '))
      .map((l) => {
        const [name, json] = l.split(' | SUCCESS => ') as [string, string];
        return [name, (JSON.parse(json) as { msg: AnsibleHostView }).msg];
      }),
  );
}
