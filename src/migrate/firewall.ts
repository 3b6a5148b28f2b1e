/**
 * The page-port guard: nftables input for each host, built from validated addresses, ports and
 * migration ids only (nothing from chat reaches it). Pure; firewall-host.ts sends it with `nft -f -`.
 *
 * One table, `inet ferry`, closes CRIU's port range to new connections from everyone, except the
 * (peer address, port) pairs in its `grants4`/`grants6` sets. A migration adds one element per page
 * server (before the server listens) and removes its elements at cleanup; every element also
 * expires on its own, so a controller that dies mid-migration leaves nothing open for long.
 *
 * Why one shared table and not a table per migration: a packet passes every base chain at the
 * input hook, and a drop in any of them is final, so a per-migration table that closed the whole
 * range would also close the ports of another migration running on the same host. Sets shared by
 * one chain are how several migrations hold their own openings side by side.
 *
 * Only connection attempts (SYN without ACK) are filtered: the replies of a host's own outgoing
 * connections are never touched, whatever its ephemeral port range, and no conntrack is needed.
 * They are refused with a TCP reset, so a guarded port looks exactly like a closed one and a peer
 * misconfiguration fails at once instead of after TCP's connect timeout.
 */
import net from 'node:net';
import { ErrorCode, FerryError } from '../errors.ts';

/** CRIU's page-server and lazy-pages ports (context.ts picks from this range). */
export const PAGE_PORTS = { min: 27000, max: 28999 } as const;

export const GUARD_TABLE = 'ferry';
/**
 * A migration id as it may stand in a grant's comment: the shape of MIGRATION_ID (request.ts),
 * repeated here so the firewall does not import the engine's request module (a unit test keeps
 * the two equal).
 */
export const GRANT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SET4 = 'grants4';
const SET6 = 'grants6';
/** The longest a grant may live: the longest lazy transfer plus margin. @defaultValue 2 days */
export const MAX_GRANT_S = 2 * 24 * 3600;

/** One page server's opening: `port` on this host accepts connections from `peer` only. */
export interface PortGrant {
  /** The migration the page server serves: grants are removed by it at cleanup. */
  migration: string;
  /** The peer's IP address as this host sees it (IPv4 or IPv6; a name is refused). */
  peer: string;
  port: number;
  /** Seconds until the grant expires by itself. */
  ttlS: number;
}

/** A grant as read back from the host. */
export interface GrantEntry {
  peer: string;
  port: number;
  migration?: string;
  /** Seconds until it expires, as nft reported it. */
  expiresS?: number;
}

const range = `${PAGE_PORTS.min}-${PAGE_PORTS.max}`;
const newConnection = `tcp dport ${range} tcp flags & (syn | ack) == syn`;

/**
 * The guard itself, idempotent: `add` keeps an existing table and sets (with every migration's
 * elements), and the chain is flushed and refilled in the same transaction, so applying it twice
 * leaves one copy of each rule and no moment without them.
 */
export function guardRules(): string {
  return [
    `add table inet ${GUARD_TABLE} { comment "Ferry: CRIU page ports ${range} open only to a migration's peer"; }`,
    `add set inet ${GUARD_TABLE} ${SET4} { type ipv4_addr . inet_service; flags timeout; comment "peer address . port, one per page server"; }`,
    `add set inet ${GUARD_TABLE} ${SET6} { type ipv6_addr . inet_service; flags timeout; comment "peer address . port, one per page server"; }`,
    `add chain inet ${GUARD_TABLE} input { type filter hook input priority filter - 10; policy accept; }`,
    `flush chain inet ${GUARD_TABLE} input`,
    `add rule inet ${GUARD_TABLE} input ${newConnection} ip saddr . tcp dport @${SET4} accept`,
    `add rule inet ${GUARD_TABLE} input ${newConnection} ip6 saddr . tcp dport @${SET6} accept`,
    `add rule inet ${GUARD_TABLE} input ${newConnection} reject with tcp reset`,
    '',
  ].join('\n');
}

/** The guard (so it exists before the server listens) and the grant, in one transaction. */
export function grantRules(g: PortGrant): string {
  const v = validGrant(g);
  return `${guardRules()}add element inet ${GUARD_TABLE} ${v.set} { ${v.peer} . ${v.port} timeout ${v.ttlS}s comment "${commentOf(v.migration)}" }\n`;
}

/** Removes one grant. (nft fails when it is gone already, expired: the caller treats that as done.) */
export function revokeRules(g: Pick<PortGrant, 'peer' | 'port'>): string {
  const v = validAddressPort(g.peer, g.port);
  return `delete element inet ${GUARD_TABLE} ${v.set} { ${v.peer} . ${v.port} }\n`;
}

/** Removes the guard and every grant (a host leaving Ferry). */
export function removeGuardRules(): string {
  return `delete table inet ${GUARD_TABLE}\n`;
}

/** `nft -j list set inet ferry grants4|grants6` for a family. */
export function listGrantsArgv(family: 4 | 6): string[] {
  return ['nft', '-j', 'list', 'set', 'inet', GUARD_TABLE, family === 4 ? SET4 : SET6];
}

/** The grants in `nft -j list set` output (libnftables' JSON schema 1); a migration's own when `migration` is given. */
export function parseGrants(json: string, migration?: string): GrantEntry[] {
  const doc = JSON.parse(json) as { nftables?: unknown[] };
  const out: GrantEntry[] = [];
  for (const item of doc.nftables ?? []) {
    const set = (item as { set?: { elem?: unknown[] } }).set;
    for (const e of set?.elem ?? []) {
      // An element with a timeout or comment is wrapped: { elem: { val, timeout, comment } }.
      const wrapped = (e as { elem?: { val?: unknown; comment?: unknown; expires?: unknown } }).elem;
      const val = (wrapped ? wrapped.val : e) as { concat?: unknown[] } | undefined;
      const [peer, port] = val?.concat ?? [];
      if (typeof peer !== 'string' || typeof port !== 'number') continue;
      const comment = typeof wrapped?.comment === 'string' ? wrapped.comment : undefined;
      const owner = comment?.startsWith(COMMENT_PREFIX) ? comment.slice(COMMENT_PREFIX.length) : undefined;
      if (migration !== undefined && owner !== migration) continue;
      const entry: GrantEntry = { peer, port };
      if (owner !== undefined) entry.migration = owner;
      if (typeof wrapped?.expires === 'number') entry.expiresS = wrapped.expires;
      out.push(entry);
    }
  }
  return out;
}

const COMMENT_PREFIX = 'ferry:';
const commentOf = (migration: string) => `${COMMENT_PREFIX}${migration}`;

function validGrant(g: PortGrant) {
  if (!GRANT_ID.test(g.migration)) throw new TypeError(`invalid migration id for a firewall grant: '${g.migration}'`);
  if (!Number.isInteger(g.ttlS) || g.ttlS < 1 || g.ttlS > MAX_GRANT_S) throw new TypeError(`a grant's lifetime must be 1 to ${MAX_GRANT_S} s, not ${g.ttlS}`);
  return { ...validAddressPort(g.peer, g.port), migration: g.migration, ttlS: g.ttlS };
}

function validAddressPort(peer: string, port: number) {
  const family = net.isIP(peer);
  if (family === 0) {
    // A name would be resolved by nft on the host, perhaps differently from the peer's real source address.
    throw new FerryError(ErrorCode.FirewallFailed, `the page-port firewall needs the peer's IP address, not '${peer}': give the host an IP address (address or peerAddress in the hosts file, ansible_host in an inventory)`);
  }
  if (!Number.isInteger(port) || port < PAGE_PORTS.min || port > PAGE_PORTS.max) {
    throw new TypeError(`page port ${port} is outside ${PAGE_PORTS.min}-${PAGE_PORTS.max}`);
  }
  return { peer, port, set: family === 4 ? SET4 : SET6 };
}
