import { ErrorCode, FerryError } from '../errors.ts';
import type { ExecResult, RemoteHost } from '../hosts/RemoteHost.ts';
import { grantRules, guardRules, listGrantsArgv, parseGrants, removeGuardRules, revokeRules, type GrantEntry, type PortGrant } from './firewall.ts';

/**
 * The page-port guard on a host, over SSH (`nft -f -`, the rules on stdin). The host needs
 * nftables (`ferry provision` installs it) and root. See firewall.ts for what the rules do.
 */

/** Installs (or re-asserts) the guard: the whole page-port range closed to new connections. */
export async function ensurePortGuard(host: RemoteHost): Promise<void> {
  await nft(host, guardRules(), 'set up the page-port firewall');
}

/** Opens `port` to `peer` only, until `ttlS` passes or {@link revokeMigrationGrants}; the guard comes with it. */
export async function grantPagePort(host: RemoteHost, grant: PortGrant): Promise<void> {
  await nft(host, grantRules(grant), `open port ${grant.port} to ${grant.peer}`);
}

/** Closes one port again; a grant already gone (expired, revoked) counts as closed. */
export async function revokePagePort(host: RemoteHost, grant: Pick<PortGrant, 'peer' | 'port'>): Promise<void> {
  const r = await host.exec(['nft', '-f', '-'], { stdin: revokeRules(grant), idempotent: true });
  if (r.code !== 0 && !gone(r)) throw failure(host, `close port ${grant.port} to ${grant.peer}`, r);
}

/** This host's grants (every migration's, or one's). None when the guard is not installed. */
export async function listGrants(host: RemoteHost, migration?: string): Promise<GrantEntry[]> {
  const out: GrantEntry[] = [];
  for (const family of [4, 6] as const) {
    const r = await host.exec(listGrantsArgv(family), { idempotent: true });
    if (r.code !== 0) {
      if (gone(r)) continue;
      throw failure(host, 'read the page-port grants', r);
    }
    out.push(...parseGrants(r.stdout, migration));
  }
  return out;
}

/** Closes every port a migration opened on this host (cleanup and recovery call it; safe to repeat). */
export async function revokeMigrationGrants(host: RemoteHost, migration: string): Promise<number> {
  const grants = await listGrants(host, migration);
  for (const g of grants) await revokePagePort(host, g);
  return grants.length;
}

/** Removes the guard and all grants: the host no longer takes part in migrations. */
export async function removePortGuard(host: RemoteHost): Promise<void> {
  const r = await host.exec(['nft', '-f', '-'], { stdin: removeGuardRules(), idempotent: true });
  if (r.code !== 0 && !gone(r)) throw failure(host, 'remove the page-port firewall', r);
}

async function nft(host: RemoteHost, rules: string, what: string): Promise<void> {
  // Idempotent: the guard is re-asserted whole, and adding an element that exists renews its timeout.
  const r = await host.exec(['nft', '-f', '-'], { stdin: rules, idempotent: true });
  if (r.code !== 0) throw failure(host, what, r);
}

/** `timeout` (which wraps every remote command) exits 127 when it cannot find the program. */
const NOT_FOUND = 127;

/** nft's words for "no such table, set or element" (ENOENT), as opposed to nft itself missing. */
const gone = (r: ExecResult) => r.code !== NOT_FOUND && /No such file or directory/.test(r.stderr);

function failure(host: RemoteHost, what: string, r: ExecResult): FerryError {
  const why = r.code === NOT_FOUND ? "nftables is not installed there (run 'ferry provision')" : r.stderr.trim().split('\n').slice(0, 3).join(' ');
  return new FerryError(ErrorCode.FirewallFailed, `could not ${what} on ${host.name}: ${why}`, { details: { host: host.name, stderr: r.stderr.trim() } });
}
