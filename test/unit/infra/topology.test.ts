import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/config.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { LAN, WAN, parseLinkProfile } from '../../../src/infra/link/profile.ts';
import {
  allLabNetworks,
  describeWan,
  gatewayNames,
  labLayout,
  parseTopology,
  routeOf,
  siteOf,
  topologyHostNames,
  twoCloudsCloudOf,
} from '../../../src/infra/providers/topology.ts';
import { labHealthy, renderLabStatus } from '../../../src/cli/commands/lab.ts';
import type { EnvironmentStatus } from '../../../src/infra/providers/provider.ts';
import { catchFerry } from '../catch-ferry.ts';

const net = { labBridge: 'ferry0', labSubnetPrefix: '10.247.0' };

describe('topologies', () => {
  it('knows flat and two-clouds, and refuses anything else with the choices', () => {
    expect(parseTopology('flat')).toBe('flat');
    expect(parseTopology('two-clouds')).toBe('two-clouds');
    expect(catchFerry(() => parseTopology('mesh'), ErrorCode.UsageError).message).toMatch(/unknown topology 'mesh': choose flat .* or two-clouds/);
  });

  it('names hosts so the name says the cloud: a-N in cloud-a, b-N in cloud-b, alternating', () => {
    expect(topologyHostNames('flat', 3)).toEqual(['lab-1', 'lab-2', 'lab-3']);
    expect(topologyHostNames('two-clouds', 2)).toEqual(['a-1', 'b-1']);
    expect(topologyHostNames('two-clouds', 5)).toEqual(['a-1', 'b-1', 'a-2', 'b-2', 'a-3']);
    expect(twoCloudsCloudOf('a-2')).toBe('cloud-a');
    expect(twoCloudsCloudOf('b-1')).toBe('cloud-b');
    expect(catchFerry(() => topologyHostNames('two-clouds', 1), ErrorCode.UsageError).message).toMatch(/at least 2 hosts, one per cloud/);
    expect(catchFerry(() => twoCloudsCloudOf('lab-1'), ErrorCode.ConfigInvalid).message).toMatch(/belongs to no cloud/);
  });

  it('lays the flat lab out as one site named after the provider, on the configured bridge', () => {
    expect(labLayout({ hosts: ['lab-1', 'lab-2'] }, 'local', net)).toEqual({
      topology: 'flat',
      link: null,
      sites: [{ cloud: 'local', bridge: 'ferry0', subnetPrefix: '10.247.0', hosts: ['lab-1', 'lab-2'] }],
    });
  });

  it('lays two clouds out on their own bridges and the next two /24s, the WAN link wan unless told', () => {
    const l = labLayout({ hosts: ['a-1', 'b-1', 'a-2'], topology: 'two-clouds' }, 'qemu', net);
    expect(l.link).toEqual(WAN);
    expect(l.sites).toEqual([
      { cloud: 'cloud-a', bridge: 'ferry0-a', subnetPrefix: '10.247.1', hosts: ['a-1', 'a-2'] },
      { cloud: 'cloud-b', bridge: 'ferry0-b', subnetPrefix: '10.247.2', hosts: ['b-1'] },
    ]);
    expect(siteOf(l, 'b-1')!.cloud).toBe('cloud-b');
    // Each cloud's hosts reach the other /24 through their own gateway (.254).
    expect(routeOf(l, l.sites[0]!)).toBe('10.247.2.0/24,10.247.1.254');
    expect(routeOf(l, l.sites[1]!)).toBe('10.247.1.0/24,10.247.2.254');
    expect(routeOf(labLayout({ hosts: ['lab-1'] }, 'local', net), { cloud: 'local', bridge: 'ferry0', subnetPrefix: '10.247.0', hosts: [] })).toBeUndefined();
    expect(labLayout({ hosts: ['a-1', 'b-1'], topology: 'two-clouds', link: LAN }, 'local', net).link).toEqual(LAN);
  });

  it('refuses a two-cloud layout it cannot name or address', () => {
    expect(catchFerry(() => labLayout({ hosts: ['a-1', 'a-2'], topology: 'two-clouds' }, 'local', net), ErrorCode.UsageError).message).toMatch(/cloud-b has none/);
    expect(catchFerry(() => labLayout({ hosts: ['a-1', 'b-1'], topology: 'two-clouds' }, 'local', { ...net, labBridge: 'abcdefghijklmn' }), ErrorCode.ConfigInvalid).message).toMatch(
      /too long for a two-cloud lab/,
    );
    expect(catchFerry(() => labLayout({ hosts: ['a-1', 'b-1'], topology: 'two-clouds' }, 'local', { ...net, labSubnetPrefix: '10.0.254' }), ErrorCode.ConfigInvalid).message).toMatch(/no room/);
  });

  it('lists every network a lab of any topology may have left (for down)', () => {
    expect(allLabNetworks(net)).toEqual([
      { bridge: 'ferry0', subnet: '10.247.0.0/24' },
      { bridge: 'ferry0-a', subnet: '10.247.1.0/24' },
      { bridge: 'ferry0-b', subnet: '10.247.2.0/24' },
    ]);
    expect(allLabNetworks({ labBridge: 'abcdefghijklmn', labSubnetPrefix: '10.0.0' })).toEqual([{ bridge: 'abcdefghijklmn', subnet: '10.0.0.0/24' }]);
  });
});

describe('gateway names', () => {
  it('are the ones wan.sh uses (wan.sh names, no root needed)', () => {
    const script = path.join(REPO_ROOT, 'terraform', 'lib', 'wan.sh');
    for (const [i, cloud, prefix] of [
      [0, 'cloud-a', '10.247.1'],
      [1, 'cloud-b', '10.247.2'],
      [1, 'a-very-long-cloud', '10.9.9'],
    ] as const) {
      const out = execFileSync(script, ['names', String(i), cloud, prefix], { encoding: 'utf8' }).trim();
      const fromScript = Object.fromEntries(out.split(' ').map((kv) => kv.split('=') as [string, string]));
      const n = gatewayNames(i, { cloud, subnetPrefix: prefix });
      expect(fromScript).toEqual({ namespace: n.namespace, wg: n.wg, veth: n.veth, lan: n.lan, public: n.public, relay: n.relay, port: String(n.port) });
      // Interface names fit the kernel's 15 characters, and the two gateways' WireGuard sockets differ.
      expect(n.wg.length).toBeLessThanOrEqual(15);
      expect(n.veth.length).toBeLessThanOrEqual(15);
    }
    expect(gatewayNames(0, { cloud: 'cloud-a', subnetPrefix: '10.247.1' }).wg).not.toBe(gatewayNames(1, { cloud: 'cloud-b', subnetPrefix: '10.247.2' }).wg);
  });

  it('says how the WAN is emulated', () => {
    expect(describeWan(WAN)).toBe(
      "wan: 30 ms round trip, 200 Mbit/s (HTB at 200 Mbit/s on both gateways' WAN legs; the UDP relay in ferry-wan adding 15 ms each way; WireGuard by wireguard-go (userspace, over TUN))",
    );
    expect(describeWan(parseLinkProfile('10,50,1'))).toMatch(/adding 5 ms each way and 1 % loss each way/);
    expect(describeWan(LAN)).toMatch(/no rate limit; the UDP relay in ferry-wan adding no delay/);
  });
});

describe('lab status rendering', () => {
  const st: EnvironmentStatus = {
    topology: 'two-clouds',
    hosts: [
      { name: 'a-1', cloud: 'cloud-a', address: '10.247.1.11', whole: true, ssh: true },
      { name: 'b-1', cloud: 'cloud-b', address: '10.247.2.11', whole: true, ssh: true },
    ],
    wan: {
      link: WAN,
      emulation: describeWan(WAN),
      relay: { whole: true },
      gateways: [
        { cloud: 'cloud-a', namespace: 'ferry-gw-cloud-a', wg: 'fwg-cloud-a', lanAddress: '10.247.1.254', publicAddress: '198.51.100.1', whole: true, handshakeAgeS: 3 },
        { cloud: 'cloud-b', namespace: 'ferry-gw-cloud-b', wg: 'fwg-cloud-b', lanAddress: '10.247.2.254', publicAddress: '203.0.113.1', whole: false, handshakeAgeS: null, problem: 'namespace missing' },
      ],
    },
  };

  it('shows each host with its cloud, the gateways, the relay and the link', () => {
    const text = renderLabStatus(st);
    expect(text).toMatch(/a-1\s+cloud-a\s+10\.247\.1\.11\s+up\s+ok/);
    expect(text).toMatch(/cloud-a\s+ferry-gw-cloud-a\s+10\.247\.1\.254\s+198\.51\.100\.1\s+fwg-cloud-a\s+3 s ago\s+up/);
    expect(text).toMatch(/cloud-b .* none yet\s+broken: namespace missing/);
    expect(text).toContain('relay: up');
    expect(text).toContain('link: wan: 30 ms round trip, 200 Mbit/s (HTB');
  });

  it('is healthy only when every host, gateway and the relay are', () => {
    expect(labHealthy(st)).toBe(false);
    const ok = { ...st, wan: { ...st.wan!, gateways: st.wan!.gateways.map((g) => ({ ...g, whole: true })) } };
    expect(labHealthy(ok)).toBe(true);
    expect(labHealthy({ ...ok, wan: { ...ok.wan, relay: { whole: false, problem: 'gone' } } })).toBe(false);
    expect(labHealthy({ topology: 'flat', hosts: [{ name: 'lab-1', address: 'x', whole: true, ssh: true }] })).toBe(true);
    expect(labHealthy({ topology: 'flat', hosts: [] })).toBe(false);
  });
});
