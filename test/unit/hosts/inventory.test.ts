import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { findHost, groupsText, parseHostsFile } from '../../../src/hosts/inventory.ts';
import { catchFerry } from '../catch-ferry.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';

const host = (over: Record<string, unknown> = {}) => ({
  name: 'lab-1',
  address: '10.247.0.11',
  port: 22,
  user: 'root',
  privateKeyFile: '/var/lib/ferry-lab/keys/id_ed25519',
  hostKey: KEY,
  ...over,
});

const file = (hosts: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ environment: 'local', knownHostsFile: '/var/lib/ferry-lab/known_hosts', inventoryFile: '/var/lib/ferry-lab/inventory.ini', hosts, ...extra });

const invalid = (text: string) => catchFerry(() => parseHostsFile(text, 'hosts.json'), ErrorCode.ConfigInvalid);

describe('parseHostsFile', () => {
  it('parses a valid file', () => {
    const f = parseHostsFile(file([host(), host({ name: 'lab-2', address: '10.247.0.12', port: 2222, environment: 'qemu' })], { controllerAddress: '10.247.0.1' }));
    expect(f).toEqual({
      environment: 'local',
      controllerAddress: '10.247.0.1',
      knownHostsFile: '/var/lib/ferry-lab/known_hosts',
      inventoryFile: '/var/lib/ferry-lab/inventory.ini',
      hosts: [
        { ...host(), environment: 'local' },
        { ...host({ name: 'lab-2', address: '10.247.0.12', port: 2222 }), environment: 'qemu' },
      ],
    });
  });

  it('defaults the port to 22 and the environment to unknown', () => {
    const { port: _port, ...noPort } = host();
    const f = parseHostsFile(JSON.stringify({ hosts: [noPort] }));
    expect(f.hosts[0]!.port).toBe(22);
    expect(f.hosts[0]!.environment).toBe('unknown');
    expect(f.environment).toBe('unknown');
    expect(f.controllerAddress).toBeUndefined();
  });

  it('accepts an empty host list', () => {
    expect(parseHostsFile(file([])).hosts).toEqual([]);
  });

  it('rejects text that is not JSON, naming the source', () => {
    const e = invalid('{ hosts: ');
    expect(e.message).toMatch(/^hosts\.json is not valid JSON/);
  });

  it.each(['null', '42', '"hosts"'])('rejects the non-object %s', (text) => {
    expect(invalid(text).message).toContain('expected an object');
  });

  it('rejects a file without hosts', () => {
    expect(invalid(JSON.stringify({ environment: 'local' })).message).toBe("hosts.json: 'hosts' must be a list");
  });

  it('rejects hosts that is not a list', () => {
    expect(invalid(JSON.stringify({ hosts: { 'lab-1': host() } })).message).toContain("'hosts' must be a list");
  });

  it.each(['name', 'address', 'user', 'privateKeyFile', 'hostKey'])('rejects a missing %s, naming the field', (field) => {
    const h: Record<string, unknown> = host();
    delete h[field];
    expect(invalid(file([host({ name: 'lab-2' }), h])).message).toContain(`hosts[1].${field} must be a non-empty string`);
  });

  it('rejects an empty string field', () => {
    expect(invalid(file([host({ address: '' })])).message).toContain('hosts[0].address must be a non-empty string');
  });

  it.each(['Lab-1', '1lab', 'lab_1', 'lab;rm'])('rejects the bad host name %j', (name) => {
    const e = invalid(file([host({ name })]));
    expect(e.message).toContain(`hosts[0].name '${name}' must match`);
  });

  it.each([0, 65536, -1, 22.5, '22'])('rejects the bad port %j', (port) => {
    expect(invalid(file([host({ port })])).message).toContain('hosts[0].port must be 1-65535');
  });

  it.each([1, 65535])('accepts the edge port %j', (port) => {
    expect(parseHostsFile(file([host({ port })])).hosts[0]!.port).toBe(port);
  });

  it.each(['AAAAC3NzaC1lZDI1NTE5', 'ssh-ed25519', 'rsa AAAA', 'ssh-ed25519 !!!'])('rejects the bad host key %j', (hostKey) => {
    expect(invalid(file([host({ hostKey })])).message).toContain('hosts[0].hostKey must be an OpenSSH public key');
  });

  it('rejects a host that appears twice', () => {
    const e = invalid(file([host(), host({ address: '10.247.0.99' })]));
    expect(e.message).toBe("hosts.json: host 'lab-1' appears twice");
  });
});

describe('findHost', () => {
  const f = parseHostsFile(file([host(), host({ name: 'lab-2' })]));

  it('returns the named host', () => {
    expect(findHost(f, 'lab-2').name).toBe('lab-2');
  });

  it('rejects an unknown host with the closest names', () => {
    const e = catchFerry(() => findHost(f, 'lab-3'), ErrorCode.UnknownHost);
    expect(e.message).toBe("unknown host 'lab-3': did you mean lab-1 or lab-2?");
    expect(e.details).toEqual({ host: 'lab-3', suggestions: ['lab-1', 'lab-2'] });
  });

  it('lists the known hosts when none is close', () => {
    const e = catchFerry(() => findHost(f, 'database'), ErrorCode.UnknownHost);
    expect(e.message).toBe("unknown host 'database' (known hosts: lab-1, lab-2)");
  });

  it('points at ferry hosts instead of listing a large inventory', () => {
    const many = parseHostsFile(file(Array.from({ length: 11 }, (_, i) => host({ name: `node-${i}` }))));
    expect(catchFerry(() => findHost(many, 'database'), ErrorCode.UnknownHost).message).toBe(
      "unknown host 'database' (none of the 11 hosts is named like it: 'ferry hosts' lists them)",
    );
  });

  it('says none when there are no hosts', () => {
    const e = catchFerry(() => findHost(parseHostsFile(file([])), 'lab-1'), ErrorCode.UnknownHost);
    expect(e.message).toContain('known hosts: none');
  });
});

describe('groupsText', () => {
  it("lists a host's groups comma-separated, as group_names gives them", () => {
    expect(groupsText(['cloud_a', 'env_prod', 'web'])).toBe('cloud_a,env_prod,web');
    expect(groupsText(['ungrouped'])).toBe('ungrouped');
  });

  it('shows - for none (a hosts.json host)', () => {
    expect(groupsText(undefined)).toBe('-');
    expect(groupsText([])).toBe('-');
  });
});
