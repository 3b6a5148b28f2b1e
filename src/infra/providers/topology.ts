/**
 * How a lab's hosts are laid out (pure). `flat`: one bridge and /24, every host on it (the lab as
 * it always was). `two-clouds`: two sites, each with its own bridge and /24, whose hosts reach
 * the other site only through a WireGuard tunnel between a gateway per site, over a WAN shaped
 * as a link profile (terraform/lib/wan.sh builds it, for both lab providers alike).
 */
import type { FerryConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { labHostNames } from '../inventory.ts';
import { describeProfile, WAN, type LinkProfile } from '../link/profile.ts';

export const TOPOLOGIES = ['flat', 'two-clouds'] as const;
export type TopologyName = (typeof TOPOLOGIES)[number];

/** What a lab is asked to be, beyond its provider and host count. */
export interface TopologyParams {
  /** @defaultValue 'flat' */
  topology?: TopologyName;
  /** The WAN between a two-cloud lab's gateways (none for the flat lab). @defaultValue {@link WAN} for two clouds */
  link?: LinkProfile;
}

/** One site of a lab: a bridge and a /24 of its own. */
export interface LabSite {
  /** The `cloud` of its hosts (the flat lab's one site is named after its provider). */
  cloud: string;
  bridge: string;
  /** First three octets of its /24: the controller is .1, hosts start at .11, a gateway is .254. */
  subnetPrefix: string;
  hosts: string[];
}

export interface LabLayout {
  topology: TopologyName;
  sites: LabSite[];
  /** The WAN between the two sites; null for the flat lab. */
  link: LinkProfile | null;
}

/** The two clouds of a two-cloud lab and the letter their hosts' names start with (`a-1` is in cloud-a). */
export const TWO_CLOUDS = [
  { cloud: 'cloud-a', letter: 'a' },
  { cloud: 'cloud-b', letter: 'b' },
] as const;

export function parseTopology(s: string): TopologyName {
  if ((TOPOLOGIES as readonly string[]).includes(s)) return s as TopologyName;
  throw new FerryError(ErrorCode.UsageError, `unknown topology '${s}': choose flat (one bridge, the default) or two-clouds (two bridges joined by WireGuard over a shaped WAN)`);
}

/**
 * The lab's host names: `lab-1` … `lab-N` when flat; for two clouds `a-1`, `b-1`, `a-2`, `b-2` …
 * (N in all, cloud-a taking the odd one), so each name says its cloud.
 */
export function topologyHostNames(topology: TopologyName, count: number): string[] {
  if (topology === 'flat') return labHostNames(count);
  if (count < 2) throw new FerryError(ErrorCode.UsageError, `a two-cloud lab needs at least 2 hosts, one per cloud (got --hosts ${count})`);
  return Array.from({ length: count }, (_, i) => `${TWO_CLOUDS[i % 2]!.letter}-${Math.floor(i / 2) + 1}`);
}

/** The bridges and /24s every topology may use (for sweeping whatever a lab left). */
export function allLabNetworks(config: Pick<FerryConfig, 'labBridge' | 'labSubnetPrefix'>): { bridge: string; subnet: string }[] {
  const flat = { bridge: config.labBridge, subnet: `${config.labSubnetPrefix}.0/24` };
  let two: { bridge: string; subnet: string }[] = [];
  try {
    two = twoCloudSites(config).map((s) => ({ bridge: s.bridge, subnet: `${s.subnetPrefix}.0/24` }));
  } catch {
    // A configuration no two-cloud lab can have had: nothing of one to sweep.
  }
  return [flat, ...two];
}

/** Bridge and /24 of each cloud: the lab bridge's name plus `-a`/`-b`, the next two /24s after the lab's. */
function twoCloudSites(config: Pick<FerryConfig, 'labBridge' | 'labSubnetPrefix'>): Omit<LabSite, 'hosts'>[] {
  if (config.labBridge.length > 13) {
    throw new FerryError(ErrorCode.ConfigInvalid, `FERRY_LAB_BRIDGE='${config.labBridge}' is too long for a two-cloud lab, whose bridges add '-a' and '-b' (13 characters at most)`);
  }
  const [o1, o2, o3] = config.labSubnetPrefix.split('.').map(Number) as [number, number, number];
  if (o3 + TWO_CLOUDS.length > 255) {
    throw new FerryError(ErrorCode.ConfigInvalid, `FERRY_LAB_SUBNET='${config.labSubnetPrefix}' leaves no room for a two-cloud lab's two /24s after it (third octet 253 at most)`);
  }
  return TWO_CLOUDS.map((c, i) => ({ cloud: c.cloud, bridge: `${config.labBridge}-${c.letter}`, subnetPrefix: `${o1}.${o2}.${o3 + 1 + i}` }));
}

/** The cloud a two-cloud lab host is in, by its name ({@link topologyHostNames}). */
export function twoCloudsCloudOf(host: string): string {
  const c = TWO_CLOUDS.find((x) => host.startsWith(`${x.letter}-`));
  if (!c) throw new FerryError(ErrorCode.ConfigInvalid, `host '${host}' belongs to no cloud of a two-cloud lab (their names start with a- or b-)`);
  return c.cloud;
}

/**
 * The layout of a lab: its sites with their bridges, /24s and hosts, and the WAN's link. The flat
 * lab is one site named `flatCloud` (the provider: `local`, `qemu`) on the configured bridge.
 */
export function labLayout(p: { hosts: string[] } & TopologyParams, flatCloud: string, config: Pick<FerryConfig, 'labBridge' | 'labSubnetPrefix'>): LabLayout {
  const topology = p.topology ?? 'flat';
  if (topology === 'flat') {
    return { topology, link: null, sites: [{ cloud: flatCloud, bridge: config.labBridge, subnetPrefix: config.labSubnetPrefix, hosts: [...p.hosts] }] };
  }
  const sites = twoCloudSites(config).map((s) => ({ ...s, hosts: p.hosts.filter((h) => twoCloudsCloudOf(h) === s.cloud) }));
  const empty = sites.find((s) => s.hosts.length === 0);
  if (empty) throw new FerryError(ErrorCode.UsageError, `a two-cloud lab needs a host in each cloud; ${empty.cloud} has none`);
  return { topology, sites, link: p.link ?? WAN };
}

/** The site a host of the layout is on. */
export function siteOf(layout: LabLayout, host: string): LabSite | undefined {
  return layout.sites.find((s) => s.hosts.includes(host));
}

/**
 * A two-cloud host's route, as the lab scripts take it (`SUBNET,GATEWAY`): the other cloud's /24
 * through its own cloud's gateway. Undefined for the flat lab.
 */
export function routeOf(layout: LabLayout, site: LabSite): string | undefined {
  if (layout.sites.length !== 2) return undefined;
  const other = layout.sites.find((s) => s !== site)!;
  return `${other.subnetPrefix}.0/24,${site.subnetPrefix}.254`;
}

/** The "public" /24s of the gateways' WAN legs (RFC 5737 documentation ranges), by site index. */
const PUBLIC = ['198.51.100', '203.0.113'] as const;
export const WG_PORT = 51820;
/** The WAN namespace the relay runs in. */
export const WAN_NAMESPACE = 'ferry-wan';

/** One gateway's names and addresses. Kept equal to `wan.sh names` (a unit test compares them). */
export interface GatewayNames {
  cloud: string;
  namespace: string;
  /** Its WireGuard interface (wireguard-go's control socket is /var/run/wireguard/<wg>.sock). */
  wg: string;
  /** The controller-side end of its leg on the cloud's bridge. */
  veth: string;
  /** Its address on the cloud's bridge: the other cloud's route goes through it. */
  lan: string;
  /** Its WAN address ("public"), and the relay's on that side. */
  public: string;
  relay: string;
  port: number;
}

export function gatewayNames(index: number, site: Pick<LabSite, 'cloud' | 'subnetPrefix'>): GatewayNames {
  const pub = PUBLIC[index];
  if (pub === undefined) throw new FerryError(ErrorCode.Internal, `a two-cloud lab has two gateways (asked for #${index})`);
  const short = site.cloud.slice(0, 11);
  return {
    cloud: site.cloud,
    namespace: `ferry-gw-${site.cloud}`,
    wg: `fwg-${short}`,
    veth: `fgw-${short}`,
    lan: `${site.subnetPrefix}.254`,
    public: `${pub}.1`,
    relay: `${pub}.254`,
    port: WG_PORT,
  };
}

/** How the WAN of a two-cloud lab is emulated on this controller, in words for `lab status` and results. */
export function describeWan(link: LinkProfile): string {
  const parts = [
    link.mbit === null ? 'no rate limit' : `HTB at ${link.mbit} Mbit/s on both gateways' WAN legs`,
    link.rttMs > 0 || link.lossPct > 0
      ? `the UDP relay in ${WAN_NAMESPACE} adding ${link.rttMs / 2} ms each way${link.lossPct > 0 ? ` and ${link.lossPct} % loss each way` : ''}`
      : `the UDP relay in ${WAN_NAMESPACE} adding no delay`,
    'WireGuard by wireguard-go (userspace, over TUN)',
  ];
  return `${describeProfile(link)} (${parts.join('; ')})`;
}
