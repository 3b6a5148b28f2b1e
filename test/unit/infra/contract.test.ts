import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { HOST_FIELDS, MODULE_OUTPUTS, parseModuleOutputs } from '../../../src/infra/contract.ts';
import { catchFerry } from '../catch-ferry.ts';

/** What `terraform output -json` prints: each output wrapped with its type and sensitivity. */
const wrap = (outputs: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { sensitive: false, type: 'dynamic', value }]));

const host = (over: Record<string, unknown> = {}) => ({
  name: 'aws-1',
  address: '203.0.113.10',
  port: 22,
  user: 'root',
  host_key_file: '/var/lib/ferry/envs/x/host-keys/aws-1/ssh_host_ed25519_key.pub',
  provider: 'aws',
  cloud: 'cloud-a',
  peer_address: '10.20.1.10',
  ...over,
});

const good = (over: Record<string, unknown> = {}) =>
  wrap({ environment: 'two-clouds', controller_address: '198.51.100.7', hosts: [host(), host({ name: 'gcp-1', provider: 'gcp', cloud: 'cloud-b', peer_address: '10.30.1.2' })], ...over });

const fails = (json: unknown, field: string) => {
  const e = catchFerry(() => parseModuleOutputs(json, 'terraform/aws'), ErrorCode.ConfigInvalid);
  expect(e.message).toContain('terraform/aws');
  expect(e.message).toContain(`'${field}'`);
  expect(e.details).toEqual({ module: 'terraform/aws', field });
  return e;
};

describe('parseModuleOutputs', () => {
  it('reads a good module output', () => {
    expect(parseModuleOutputs(good(), 'terraform/two-clouds')).toEqual({
      environment: 'two-clouds',
      controllerAddress: '198.51.100.7',
      hosts: [
        {
          name: 'aws-1',
          address: '203.0.113.10',
          port: 22,
          user: 'root',
          hostKeyFile: '/var/lib/ferry/envs/x/host-keys/aws-1/ssh_host_ed25519_key.pub',
          provider: 'aws',
          cloud: 'cloud-a',
          peerAddress: '10.20.1.10',
          controllerAddress: '198.51.100.7',
        },
        expect.objectContaining({ name: 'gcp-1', provider: 'gcp', cloud: 'cloud-b', peerAddress: '10.30.1.2' }),
      ],
    });
  });

  it('reads the local lab output as terraform/local writes it (extra fields ignored)', () => {
    const lab = wrap({
      environment: 'local',
      controller_address: '10.247.0.1',
      hosts: [
        {
          name: 'lab-1',
          address: '10.247.0.11',
          port: 22,
          user: 'root',
          host_key_file: '/var/lib/ferry-lab/hosts/lab-1/etc-ssh/ssh_host_ed25519_key.pub',
          provider: 'local',
          cloud: 'local',
          peer_address: '10.247.0.11',
          id: '0b7e…',
        },
      ],
    });
    const out = parseModuleOutputs(lab, 'terraform/local');
    expect(out.hosts[0]).not.toHaveProperty('id');
    expect(out.hosts[0]!.cloud).toBe('local');
  });

  it('defaults peer_address to address when it is absent or null', () => {
    const { hosts } = parseModuleOutputs(good({ hosts: [host({ peer_address: undefined }), host({ name: 'b', peer_address: null })] }), 'm');
    expect(hosts.map((h) => h.peerAddress)).toEqual(['203.0.113.10', '203.0.113.10']);
  });

  it("takes a host's own controller_address over the module's, and the module's when absent or null", () => {
    const { hosts } = parseModuleOutputs(
      good({ controller_address: '10.247.1.1', hosts: [host({ controller_address: '10.247.1.1' }), host({ name: 'b-1', controller_address: '10.247.2.1' }), host({ name: 'c', controller_address: null }), host({ name: 'd' })] }),
      'm',
    );
    expect(hosts.map((h) => h.controllerAddress)).toEqual(['10.247.1.1', '10.247.2.1', '10.247.1.1', '10.247.1.1']);
    const none = good({ hosts: [host()] });
    delete none.controller_address;
    expect(parseModuleOutputs(none, 'm').hosts[0]!.controllerAddress).toBeNull();
    fails(good({ hosts: [host({ controller_address: '-oProxyCommand=x' })] }), 'hosts[0].controller_address');
  });

  it('takes a missing controller_address for null (Terraform does not store null outputs)', () => {
    const json = good();
    delete json.controller_address;
    expect(parseModuleOutputs(json, 'm').controllerAddress).toBeNull();
    expect(parseModuleOutputs(good({ controller_address: null }), 'm').controllerAddress).toBeNull();
  });

  it('accepts DNS names and IPv6 addresses', () => {
    const { hosts } = parseModuleOutputs(good({ hosts: [host({ address: 'ec2-203-0-113-10.compute-1.amazonaws.com', peer_address: 'fd00::a' })] }), 'm');
    expect(hosts[0]!.address).toBe('ec2-203-0-113-10.compute-1.amazonaws.com');
    expect(hosts[0]!.peerAddress).toBe('fd00::a');
  });

  it("accepts any provider's name: a new environment's module needs no change to this reader", () => {
    const { hosts } = parseModuleOutputs(good({ hosts: [host({ provider: 'azure' }), host({ name: 'h-2', provider: 'hetzner-cloud' })] }), 'terraform/azure');
    expect(hosts.map((h) => h.provider)).toEqual(['azure', 'hetzner-cloud']);
  });

  it('accepts an empty host list', () => {
    expect(parseModuleOutputs(good({ hosts: [] }), 'm').hosts).toEqual([]);
  });

  it('refuses what is not the object terraform output -json prints', () => {
    for (const j of [null, [], 'hosts', 3]) {
      const e = catchFerry(() => parseModuleOutputs(j, 'terraform/aws'), ErrorCode.ConfigInvalid);
      expect(e.message).toContain('terraform/aws');
      expect(e.message).toContain('terraform output -json');
    }
  });

  it('refuses an output that is not wrapped in { value }', () => {
    fails({ ...good(), environment: 'aws' }, 'environment');
  });

  it('refuses missing or bad top-level outputs, naming them', () => {
    const noEnv = good();
    delete noEnv.environment;
    expect(fails(noEnv, 'environment').message).toContain('is missing');
    fails(good({ environment: '' }), 'environment');
    fails(good({ environment: 7 }), 'environment');
    const noHosts = good();
    delete noHosts.hosts;
    expect(fails(noHosts, 'hosts').message).toContain('is missing');
    fails(good({ hosts: { 'aws-1': host() } }), 'hosts');
    fails(good({ controller_address: 42 }), 'controller_address');
    fails(good({ controller_address: '-oProxyCommand=x' }), 'controller_address');
  });

  it('refuses a host that is not an object', () => {
    fails(good({ hosts: [host(), 'aws-2'] }), 'hosts[1]');
  });

  it('refuses each missing host field, naming it', () => {
    for (const k of Object.keys(HOST_FIELDS).filter((f) => HOST_FIELDS[f as keyof typeof HOST_FIELDS].required)) {
      const e = fails(good({ hosts: [host({ [k]: undefined })] }), `hosts[0].${k}`);
      expect(e.message).toContain('is missing');
    }
  });

  it.each([
    ['name', 'Aws_1'],
    ['name', 'a'.repeat(32)],
    ['address', '10.0.0.1 ansible_user=evil'],
    ['address', '-oProxyCommand=touch'],
    ['address', ''],
    ['port', '22'],
    ['port', 0],
    ['port', 65536],
    ['port', 22.5],
    ['user', 'Root'],
    ['user', 'root user'],
    ['host_key_file', 'keys/aws-1.pub'],
    ['host_key_file', '/a\nb'],
    ['provider', 'Azure'],
    ['provider', ''],
    ['provider', '-aws'],
    ['provider', 7],
    ['cloud', 'Cloud A'],
    ['cloud', ''],
    ['peer_address', 'not an address'],
  ])('refuses hosts[0].%s = %j, saying what it must be', (k, v) => {
    const e = fails(good({ hosts: [host({ [k]: v })] }), `hosts[0].${k}`);
    expect(e.message).toMatch(/must/);
    expect(e.message).toContain('terraform/CONTRACT.md');
  });

  it('refuses a host name given twice', () => {
    const e = fails(good({ hosts: [host(), host({ address: '203.0.113.11' })] }), 'hosts[1].name');
    expect(e.message).toContain("repeats 'aws-1'");
  });
});

describe("the contract's tables (MODULE_OUTPUTS, HOST_FIELDS) are what the reader enforces", () => {
  const wrongFor = (type: string) => (type === 'number' ? '22' : type === 'list' ? { 'aws-1': host() } : 7);

  it.each(Object.entries(MODULE_OUTPUTS))('output %s: %j', (k, { type, required }) => {
    const without = good();
    delete without[k];
    if (required) expect(fails(without, k).message).toContain('is missing');
    else expect(() => parseModuleOutputs(without, 'm')).not.toThrow();
    fails(good({ [k]: wrongFor(type) }), k);
  });

  it.each(Object.entries(HOST_FIELDS))('hosts[].%s: %j', (k, { type, required }) => {
    for (const gone of [undefined, null]) {
      const json = good({ hosts: [host({ [k]: gone })] });
      if (required) expect(fails(json, `hosts[0].${k}`).message).toContain('is missing');
      else expect(() => parseModuleOutputs(json, 'm')).not.toThrow();
    }
    fails(good({ hosts: [host({ [k]: wrongFor(type) })] }), `hosts[0].${k}`);
  });
});
