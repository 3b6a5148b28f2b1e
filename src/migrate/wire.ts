/**
 * A migration's page traffic, secured as its context asks (`ctx.tls`, `ctx.firewall`): the TLS
 * files checked on both hosts, the CRIU configuration runc's CRIU reads, and each page server's
 * port opened to its peer only. Everything here runs before the freeze.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { grantPagePort, revokePagePort } from './firewall-host.ts';
import { criuTlsConfig, hostTls, type CriuTls, type TlsRole } from './tls.ts';

/** How a migration's page traffic is secured: part of every migration's context. */
export interface WireSettings {
  /**
   * CRIU's page server and lazy-pages server over TLS, with each host's certificate from
   * /etc/ferry/pki (provision installs them). @defaultValue off (the engine sets it from FERRY_CRIU_TLS)
   */
  tls?: boolean;
  /**
   * Each page server's port opened to its peer only, for the migration's time (the nftables guard
   * closes the rest of 27000-28999). @defaultValue off (the engine sets it from FERRY_PAGE_FIREWALL)
   */
  firewall?: boolean;
}

/** What these steps need of a migration's context. */
export interface WireContext extends WireSettings {
  id: string;
  /** The migration's directory on both hosts (work/ under it). */
  dir: string;
  source: RemoteHost;
  target: RemoteHost;
}

/** How long a page server's grant may outlive its start: the longest dump (900 s) plus margin. @defaultValue 1500 s */
export const PAGE_GRANT_S = 1500;

/** The address `host` reaches its peers from (and is reached at), as the peer's firewall sees it. */
export function peerAddressOf(host: RemoteHost): string {
  return host.spec.peerAddress ?? host.spec.address;
}

/** This host's TLS files when the migration uses TLS, else undefined. */
export function tlsOf(ctx: WireSettings, host: RemoteHost): CriuTls | undefined {
  return ctx.tls ? hostTls(host.name) : undefined;
}

/** Fails early, naming what to run, when a host lacks its certificate, key or the CA. */
export async function requireTlsFiles(host: RemoteHost): Promise<CriuTls> {
  const tls = hostTls(host.name);
  const r = await host.exec(['test', '-r', tls.cacert, '-a', '-r', tls.cert, '-a', '-r', tls.key], { idempotent: true });
  if (r.code !== 0) {
    throw new FerryError(ErrorCode.PkiFailed, `${host.name} lacks its TLS files for CRIU (${tls.cacert}, ${tls.cert}, ${tls.key}): run 'ferry provision' (it makes and installs them)`, { details: { host: host.name } });
  }
  return tls;
}

/**
 * For a migration with TLS: checks both hosts' files and writes the source's CRIU configuration
 * (`role`: client towards a page server, server for lazy pages) into the work directory. Returns
 * its path for `runcCheckpoint({ criuConfig })`, or undefined without TLS.
 */
export async function prepareSourceTls(ctx: WireContext, role: TlsRole): Promise<string | undefined> {
  if (!ctx.tls) return undefined;
  const [src] = await Promise.all([requireTlsFiles(ctx.source), requireTlsFiles(ctx.target)]);
  const file = `${ctx.dir}/work/criu-tls-${role}.conf`;
  await ctx.source.writeFile(file, criuTlsConfig(src, role), '0600');
  return file;
}

/**
 * Opens `port` on `on` to the other host only (and installs the guard with it), when the
 * migration uses the firewall; a no-op otherwise. Returns how to close it again.
 */
export async function openPagePort(ctx: WireContext, on: 'source' | 'target', port: number, ttlS: number): Promise<() => Promise<void>> {
  if (!ctx.firewall) return async () => undefined;
  const host = ctx[on];
  const peer = peerAddressOf(on === 'source' ? ctx.target : ctx.source);
  await grantPagePort(host, { migration: ctx.id, peer, port, ttlS });
  return () => revokePagePort(host, { peer, port });
}
