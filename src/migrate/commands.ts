/**
 * Argument builders for runc and CRIU. Pure: every flag a migration passes is decided here and
 * unit-tested; the engine only sends these arrays over SSH.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import { criuConfigEnv, criuTlsFlags, type CriuTls } from './tls.ts';

export interface Endpoint {
  address: string;
  port: number;
}

const runc = (...args: string[]) => ['runc', '--root', HOST_PATHS.runcRoot, ...args];

/** Freezes a container's cgroup (`paused`), or thaws it. */
export function runcFreezer(action: 'pause' | 'resume', name: string): string[] {
  return runc(action, name);
}

export interface CheckpointArgs {
  name: string;
  imageDir: string;
  workDir: string;
  /** Stream pages to a page server instead of writing them to imageDir. */
  pageServer?: Endpoint;
  /** Relative path from imageDir to the previous pre-dump: only changed pages are written. */
  parentPath?: string;
  preDump?: boolean;
  /** Post-copy: dump everything but the pages, then serve pages from this endpoint on the source. */
  lazyPages?: Endpoint;
  /** File descriptor CRIU writes to when the lazy page server is ready. */
  statusFd?: number;
  /**
   * A CRIU configuration file for this checkpoint, holding its TLS options (`criuTlsConfig`:
   * client role towards a page server, server role for lazy pages). runc has no TLS flags, so the
   * file reaches runc's CRIU through `CRIU_CONFIG_FILE`. @defaultValue none: plain TCP
   */
  criuConfig?: string;
}

export function runcCheckpoint(a: CheckpointArgs): string[] {
  // The strategies never ask for these: either would be a bug in one of them.
  if (a.lazyPages && a.pageServer) throw new FerryError(ErrorCode.Internal, 'lazy pages and a remote page server are exclusive');
  if (a.lazyPages && a.preDump) throw new FerryError(ErrorCode.Internal, 'a pre-dump cannot be lazy');
  const args = [...(a.criuConfig ? criuConfigEnv(a.criuConfig) : []), ...runc('checkpoint', '--image-path', a.imageDir, '--work-path', a.workDir)];
  if (a.preDump) args.push('--pre-dump');
  if (a.parentPath) args.push('--parent-path', a.parentPath);
  if (a.pageServer) args.push('--page-server', `${a.pageServer.address}:${a.pageServer.port}`);
  if (a.lazyPages) {
    args.push('--lazy-pages', '--page-server', `${a.lazyPages.address}:${a.lazyPages.port}`);
    if (a.statusFd !== undefined) args.push('--status-fd', String(a.statusFd));
  }
  args.push(a.name);
  return args;
}

export interface RestoreArgs {
  name: string;
  bundle: string;
  imageDir: string;
  workDir: string;
  pidFile: string;
  lazyPages?: boolean;
  log: string;
}

/**
 * Detached restore; the caller wraps it in the host's `detached` helper so no stdio is inherited.
 * No TLS here even for lazy pages: the restoring CRIU reaches the lazy-pages daemon over a unix
 * socket in the work directory; the daemon ({@link criuLazyPages}) is what connects to the source.
 */
export function runcRestore(a: RestoreArgs): string[] {
  const args = [HOST_PATHS.detached, 'runc', '--root', HOST_PATHS.runcRoot, '--log', a.log, 'restore', '--detach', '--image-path', a.imageDir, '--work-path', a.workDir, '--bundle', a.bundle, '--pid-file', a.pidFile];
  if (a.lazyPages) args.push('--lazy-pages');
  args.push(a.name);
  return args;
}

export interface PageServerArgs {
  imageDir: string;
  listen: Endpoint;
  pidFile: string;
  logFile: string;
  /** This host's certificate files: the dump must present one of the same CA. @defaultValue none: plain TCP */
  tls?: CriuTls;
}

/** A daemonized `criu page-server`: it returns once listening, and exits when the dump closes. */
export function criuPageServer(a: PageServerArgs): string[] {
  const args = ['criu', 'page-server', '--images-dir', a.imageDir, '--address', a.listen.address, '--port', String(a.listen.port), '--daemon', '--pidfile', a.pidFile, '-o', a.logFile, '-v4'];
  if (a.tls) args.push(...criuTlsFlags(a.tls, 'server'));
  return args;
}

export interface LazyPagesArgs {
  imageDir: string;
  workDir: string;
  /** The source's lazy page server. */
  source: Endpoint;
  pidFile: string;
  logFile: string;
  /** This host's certificate files; the source's certificate must name `source.address`. @defaultValue none: plain TCP */
  tls?: CriuTls;
}

/** The target-side daemon that serves page faults of the restored container from the source. */
export function criuLazyPages(a: LazyPagesArgs): string[] {
  const args = ['criu', 'lazy-pages', '--page-server', '--address', a.source.address, '--port', String(a.source.port), '--images-dir', a.imageDir, '--work-dir', a.workDir, '--daemon', '--pidfile', a.pidFile, '-o', a.logFile, '-v4'];
  if (a.tls) args.push(...criuTlsFlags(a.tls, 'client'));
  return args;
}

export interface RsyncArgs {
  from: string;
  /** `user@address:path` on the peer. */
  to: string;
  sshKey: string;
  knownHosts: string;
  port: number;
  /** Delete files on the receiver that the sender lacks (never for image directories a page server filled). */
  delete?: boolean;
  excludes?: string[];
  /** An SSH control socket: every rsync of a migration reuses one connection (no handshake during the freeze). */
  controlPath?: string;
}

export function rsyncPush(a: RsyncArgs): string[] {
  // rsync splits -e itself (no shell); every piece is ours, no chat input reaches it.
  const ssh = `ssh -i ${a.sshKey} -p ${a.port} -o UserKnownHostsFile=${a.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o Compression=no${a.controlPath ? ` -o ControlMaster=auto -o ControlPath=${a.controlPath} -o ControlPersist=120` : ''}`;
  const args = ['rsync', '-a', '--numeric-ids', '--sparse', '--stats', '-e', ssh];
  if (a.delete) args.push('--delete');
  for (const x of a.excludes ?? []) args.push('--exclude', x);
  args.push(a.from, a.to);
  return args;
}

/** rsync's exit code for "some files vanished before they could be transferred" (a live tree). */
export const RSYNC_VANISHED = 24;

/** Bytes rsync sent, from `--stats` output. */
export function parseRsyncSent(out: string): number {
  const m = /Total bytes sent:\s*([\d,.]+)/.exec(out);
  return m ? Number(m[1]!.replace(/[,.]/g, '')) : 0;
}
