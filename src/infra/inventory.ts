import type { HostSpec } from '../hosts/inventory.ts';

/** Terraform's `hosts` output, the same shape for every environment. */
export interface TerraformHost {
  name: string;
  address: string;
  port: number;
  user: string;
  host_key_file: string;
  provider: string;
}

/** Ansible inventory (INI) for the hosts, with SSH pinned to the recorded host keys. */
export function renderInventory(hosts: readonly HostSpec[], knownHostsFile: string): string {
  const lines = ['# Rendered by ferry from Terraform outputs; edits are overwritten by `ferry lab up`.', '[ferry]'];
  for (const h of hosts) {
    lines.push(
      `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user} ansible_ssh_private_key_file=${h.privateKeyFile} ferry_environment=${h.environment}`,
    );
  }
  lines.push(
    '',
    '[ferry:vars]',
    `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHostsFile} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s'`,
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  );
  return lines.join('\n');
}

/** known_hosts lines: `[addr]:port key` for non-22 ports, as OpenSSH writes them. */
export function renderKnownHosts(hosts: readonly HostSpec[]): string {
  return hosts
    .map((h) => {
      const target = h.port === 22 ? h.address : `[${h.address}]:${h.port}`;
      const [type, blob] = h.hostKey.trim().split(/\s+/);
      return `${target} ${type} ${blob}`;
    })
    .join('\n')
    .concat('\n');
}

export function labHostNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `lab-${i + 1}`);
}
