import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { HOST_PATHS, bundleDir } from '../hosts/paths.ts';
import type { PhaseClock } from './clock.ts';
import { criuPageServer, type Endpoint } from './commands.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import type { MigrationEvents } from './events.ts';
import { peerAddressOf } from '../hosts/inventory.ts';
import type { HostLink } from './HostLink.ts';
import { parseDumpStats, type DumpStats } from './stats.ts';
import { openPagePort, PAGE_GRANT_S, tlsOf, type WireSettings } from './wire.ts';

export interface RoundReport {
  round: number;
  pagesWritten: number;
  pagesSkipped: number;
  seconds: number;
}

/** Everything one migration's steps share (with how its page traffic is secured: {@link WireSettings}). */
export interface MigrationContext extends WireSettings {
  id: string;
  name: string;
  /** The method's name (a registry key). */
  method: string;
  source: RemoteHost;
  target: RemoteHost;
  link: HostLink;
  clock: PhaseClock;
  events: MigrationEvents;
  /** Same path on both hosts: images under img/, CRIU logs under work/. */
  dir: string;
  bundle: string;
  /** Processes started on hosts for this migration, stopped on every exit path. */
  pidFiles: { host: RemoteHost; file: string }[];
}

export const PAGE_SIZE = 4096;

export function migrationDir(id: string): string {
  return `${HOST_PATHS.images}/${id}`;
}

export function newContextPaths(id: string, name: string) {
  return { dir: migrationDir(id), bundle: bundleDir(name) };
}

/** Pages the page server or dump wrote, read from CRIU's stats-dump in the work directory. */
export async function readDumpStats(host: RemoteHost, workDir: string): Promise<DumpStats | undefined> {
  const r = await host.exec(['base64', '-w0', `${workDir}/stats-dump`]);
  if (r.code !== 0) return undefined;
  try {
    return parseDumpStats(Buffer.from(r.stdout.trim(), 'base64')) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Port for a CRIU page server: high, random, and retried by the caller on a bind failure. */
export function randomPort(): number {
  return 27000 + Math.floor(Math.random() * 2000);
}

/**
 * Starts a daemonized page server on the target; resolves once it listens. With the firewall its
 * port is opened to the source only, before it listens; with TLS it takes the source's dump only
 * from a holder of a certificate of the environment's CA.
 */
export async function startPageServer(ctx: MigrationContext, imageDir: string, tag: string): Promise<Endpoint> {
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    // Where the source reaches the target (across a tunnel between clouds), not the controller's way in.
    const listen = { address: peerAddressOf(ctx.target.spec), port: randomPort() };
    const pidFile = `${ctx.dir}/work/page-server-${tag}.pid`;
    const close = await openPagePort(ctx, 'target', listen.port, PAGE_GRANT_S);
    const r = await ctx.target.exec(criuPageServer({ imageDir, listen, pidFile, logFile: `${ctx.dir}/work/page-server-${tag}.log`, tls: tlsOf(ctx, ctx.target) }), { timeoutS: 60 });
    if (r.code === 0) {
      ctx.pidFiles.push({ host: ctx.target, file: pidFile });
      return listen;
    }
    await close().catch(() => undefined); // that port was not ours after all; the grant would expire anyway
    lastErr = (await ctx.target.exec(['tail', '-n', '3', `${ctx.dir}/work/page-server-${tag}.log`])).stdout.trim();
  }
  throw new FerryError(ErrorCode.CriuPageServerFailed, `could not start a CRIU page server on ${ctx.target.name}: ${lastErr}`, { details: { host: ctx.target.name } });
}

/** Kills a process recorded in a pid file, if it still runs. */
export async function killPidFile(host: RemoteHost, file: string): Promise<void> {
  const r = await host.exec(['cat', file]);
  const pid = r.stdout.trim();
  if (r.code === 0 && /^\d+$/.test(pid)) await host.exec(['kill', '-9', pid]);
  await host.exec(['rm', '-f', file]);
}

export async function stopHelpers(ctx: MigrationContext): Promise<void> {
  for (const p of ctx.pidFiles.splice(0)) await killPidFile(p.host, p.file).catch(() => undefined);
}
