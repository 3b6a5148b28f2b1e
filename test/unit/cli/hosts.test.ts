import { describe, expect, it } from 'vitest';
import { hostsJson, hostsText } from '../../../src/cli/commands/hosts.ts';
import type { HostSpec, HostsFile } from '../../../src/hosts/inventory.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';
const spec = (name: string, address: string, over: Partial<HostSpec> = {}): HostSpec => ({ name, address, port: 22, user: 'deploy', privateKeyFile: '/k', hostKey: KEY, environment: 'prod', ...over });
const caps = (host: string, over: Partial<HostCapabilities> = {}): HostCapabilities => ({ host, kernel: '6.1.0', criuVersion: '4.2.1', runcVersion: '1.1.15', softDirty: true, uffd: true, uffdNoncoop: true, ...over });

/** An inventory's hosts (groups as group_names gives them) and one from a hosts.json (no groups). */
const file: HostsFile = {
  environment: 'mixed',
  knownHostsFile: '',
  inventoryFile: '/etc/ansible/fleet',
  hosts: [
    spec('web-1', '192.0.2.11', { groups: ['env_prod', 'web'] }),
    spec('cache-1', '192.0.2.14', { environment: 'default', groups: ['ungrouped'] }),
    spec('lab-1', '10.247.0.11', { environment: 'local' }),
  ],
};
const probed = [caps('web-1'), caps('cache-1', { criuVersion: null, softDirty: false }), caps('lab-1')];

describe('ferry hosts', () => {
  it('tabulates each host with its groups beside the probed capabilities', () => {
    const lines = hostsText(file, probed).split('\n');
    expect(lines[0]).toMatch(/^host\s+environment\s+cloud\s+groups\s+address\s+kernel\s+criu\s+runc\s+soft-dirty\s+userfaultfd$/);
    expect(lines[2]).toMatch(/^web-1\s+prod\s+prod\s+env_prod,web\s+192\.0\.2\.11\s+6\.1\.0\s+4\.2\.1\s+1\.1\.15\s+yes\s+yes$/);
    expect(lines[3]).toMatch(/^cache-1\s+default\s+default\s+ungrouped\s+192\.0\.2\.14\s+6\.1\.0\s+missing\s+1\.1\.15\s+no\s+yes$/);
    expect(lines[4]).toMatch(/^lab-1\s+local\s+local\s+-\s+10\.247\.0\.11\s/);
    expect(lines).toHaveLength(5);
  });

  it('gives the groups in --json, an empty list for a host without any', () => {
    const out = JSON.parse(hostsJson(file, probed)) as Record<string, unknown>[];
    expect(out.map((h) => [h.host, h.groups])).toEqual([
      ['web-1', ['env_prod', 'web']],
      ['cache-1', ['ungrouped']],
      ['lab-1', []],
    ]);
    expect(out[0]).toEqual({ ...caps('web-1'), address: '192.0.2.11', environment: 'prod', cloud: 'prod', groups: ['env_prod', 'web'] });
  });
});
