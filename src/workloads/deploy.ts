import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ErrorCode, FerryError, errorMessage, isFerryError } from '../errors.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { containerStatus } from '../hosts/containers.ts';
import type { HostSpec } from '../hosts/inventory.ts';
import { HOST_PATHS, bundleDir } from '../hosts/paths.ts';
import { describeHealth, waitHealthy } from '../migrate/health.ts';
import { removeContainer } from '../migrate/debris.ts';
import { validateName } from '../util/names.ts';
import { runLocal } from '../util/run-local.ts';
import type { FerryContainerSpec } from './ferry-config.ts';
import { probeExec } from './health-exec.ts';
import type { BundleUpload, TarballUpload } from './prepare.ts';

/**
 * Where rootfs tarballs are kept on a host once copied: named by the hash of their build's inputs,
 * so a second deploy of the same rootfs on that host copies nothing (rsync finds it there).
 */
export const HOST_ROOTFS_CACHE = '/var/lib/ferry/cache/rootfs';

/** Where a container's runtime files live on its host (as playbooks/files/workload-host.sh lays them out). */
export function hostFiles(name: string): { bundle: string; pidFile: string; runcLog: string } {
  return { bundle: bundleDir(name), pidFile: `${HOST_PATHS.work}/${name}.pid`, runcLog: `${HOST_PATHS.work}/${name}.runc.log` };
}

/** The known_hosts line that pins a host's recorded key (`[addr]:port` off port 22). Pure. */
export function knownHostsLine(spec: Pick<HostSpec, 'address' | 'port' | 'hostKey'>): string {
  const [type, key] = spec.hostKey.trim().split(/\s+/);
  const pattern = spec.port === 22 ? spec.address : `[${spec.address}]:${spec.port}`;
  return `${pattern} ${type} ${key}\n`;
}

/** rsync splits its -e command on spaces and honours quotes, but not backslashes. */
function rsyncWord(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (!arg.includes("'")) return `'${arg}'`;
  if (!arg.includes('"')) return `"${arg}"`;
  throw new FerryError(ErrorCode.ConfigInvalid, `cannot pass ${arg} to rsync's ssh command: it holds both quote characters`);
}

/** Where an upload lands in the host's bundle directory. Pure. */
export function uploadTarget(upload: BundleUpload, name: string): string {
  const { bundle } = hostFiles(name);
  return upload.into === 'rootfs' ? `${bundle}/rootfs` : bundle;
}

/**
 * rsync's argv that copies `localDir` into `remoteDir` on the host over SSH, with the host's key
 * pinned (StrictHostKeyChecking=yes against `knownHostsFile` alone, no ssh_config). Numeric ids
 * keep the image's file owners; --delete makes a re-deploy exact; `excludeConfig` keeps a user's
 * own config.json out (Ferry writes its own). Pure.
 */
export function rsyncArgs(spec: HostSpec, localDir: string, remoteDir: string, knownHostsFile: string, opts: { excludeConfig?: boolean } = {}): string[] {
  return [
    '--archive', '--hard-links', '--numeric-ids', '--delete', '--mkpath',
    ...(opts.excludeConfig ? ['--exclude=/config.json'] : []),
    '-e', rsyncSsh(spec, knownHostsFile), `${localDir.replace(/\/+$/, '')}/`, remoteSpec(spec, remoteDir),
  ];
}

/** rsync's argv that copies one file into `remoteDir` on the host, the same way as {@link rsyncArgs}. Pure. */
export function rsyncFileArgs(spec: HostSpec, localFile: string, remoteDir: string, knownHostsFile: string): string[] {
  return ['--archive', '--mkpath', '-e', rsyncSsh(spec, knownHostsFile), localFile, remoteSpec(spec, remoteDir)];
}

function rsyncSsh(spec: HostSpec, knownHostsFile: string): string {
  return [
    'ssh', '-F', '/dev/null', '-i', spec.privateKeyFile, '-p', String(spec.port), '-l', spec.user,
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null',
  ].map(rsyncWord).join(' ');
}

function remoteSpec(spec: HostSpec, remoteDir: string): string {
  const address = spec.address.includes(':') ? `[${spec.address}]` : spec.address;
  return `${address}:${remoteDir.replace(/\/+$/, '')}/`;
}

/** `tar` on the host that unpacks a rootfs tarball as scripts/build-rootfs.sh made it (owners by number, modes kept). Pure. */
export function unpackArgv(tarball: string, dir: string): string[] {
  return ['tar', '--zstd', '--numeric-owner', '-xpf', tarball, '-C', dir];
}

/** `NAME-KEY.tar.zst` → `NAME`: older tarballs of the same rootfs (another key) are pruned by it. Pure; null when the name has no key. */
export function tarballStem(file: string): string | null {
  return /^([a-z0-9][a-z0-9._]*(?:-[a-z0-9._]+)*)-[a-z0-9]+\.tar\.zst$/.exec(file)?.[1] ?? null;
}

const TARBALL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.tar\.zst$/;
const BUNDLE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** runc run exactly as workload-host.sh starts Ferry's own containers: detached, stdio on /dev/null. Pure. */
export function runcRunArgv(name: string): string[] {
  const f = hostFiles(name);
  return [HOST_PATHS.detached, 'runc', '--root', HOST_PATHS.runcRoot, '--log', f.runcLog, 'run', '-d', '--pid-file', f.pidFile, '--bundle', f.bundle, name];
}

/** True when /proc/<pid>/cgroup puts the process in `path` (any v1 controller or the v2 tree). Pure. */
export function inCgroup(procCgroup: string, path: string): boolean {
  return procCgroup.split('\n').some((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1) === path);
}

/** A file Ferry writes into the bundle beside config.json (e.g. the container's own CRIU options). */
export interface BundleFile {
  /** A plain file name in the bundle directory (no `/`): `criu.conf`. */
  name: string;
  content: string;
  /** @defaultValue '0644' */
  mode?: string;
}

export interface DeployOptions {
  /** Seconds to wait for the health check after the start. @defaultValue 60 */
  healthTimeoutS?: number;
  /** Seconds for the copy to the host. @defaultValue 1800 */
  copyTimeoutS?: number;
  cancelSignal?: AbortSignal;
  /** Progress lines (copy, start, health). */
  onProgress?: (line: string) => void;
  /** Files written into the bundle after the copy, before the start (they move with the bundle on every migration). */
  files?: readonly BundleFile[];
}

export interface DeployResult {
  host: string;
  name: string;
  pid: number;
  /** Seconds from the start to the first passing health check. */
  healthyAfterS: number;
}

/**
 * Copies the bundle to `/var/lib/ferry/containers/<name>/` on the host, writes Ferry's config.json,
 * starts the container with runc as Ferry starts its own, and waits until it is healthy. Refuses a
 * name the host already has. A container that does not start leaves its files (and runc's log) for
 * inspection; `removeDeployed` clears them.
 */
export async function deployContainer(host: RemoteHost, spec: FerryContainerSpec, upload: BundleUpload, opts: DeployOptions = {}): Promise<DeployResult> {
  const { name } = spec;
  validateName('container', name);
  for (const file of opts.files ?? []) {
    if (!BUNDLE_FILE_NAME.test(file.name) || file.name === 'config.json' || file.name === 'rootfs') {
      throw new FerryError(ErrorCode.UsageError, `bundle file '${file.name}' must be a plain file name beside config.json (not config.json or rootfs)`);
    }
  }
  const progress = opts.onProgress ?? (() => undefined);
  const f = hostFiles(name);
  const status = await containerStatus(host, name);
  if (status !== null) {
    throw new FerryError(ErrorCode.ContainerExists, `${host.name} already has a container named ${name} (${status}): remove it first with ferry rm ${name}`);
  }
  // A failed restore can leave runc state or a criu-root mount behind under the same name.
  await removeContainer(host, name);
  await host.run(['install', '-d', '-m', '755', HOST_PATHS.work, f.bundle]);
  await host.run(['install', '-d', '-m', '700', HOST_PATHS.runcRoot]);

  const target = uploadTarget(upload, name);
  if ('tarball' in upload) {
    await unpackOnHost(host, upload, target, opts);
  } else {
    progress(`copying ${upload.localDir} to ${host.name}:${target}`);
    await copyToHost(host.spec, upload.localDir, target, { ...opts, excludeConfig: upload.into === 'bundle' });
  }
  for (const file of opts.files ?? []) await host.writeFile(`${f.bundle}/${file.name}`, file.content, file.mode ?? '0644');
  await host.writeFile(`${f.bundle}/config.json`, `${JSON.stringify(spec.config, null, 2)}\n`);

  progress(`starting ${name} on ${host.name}`);
  await host.exec(['rm', '-f', f.pidFile, f.runcLog]);
  const started = performance.now();
  const run = await host.exec(runcRunArgv(name), { cwd: f.bundle, timeoutS: 120 });
  const after = await containerStatus(host, name);
  if (run.code !== 0 || after !== 'running') {
    const log = await logTail(host, f.runcLog);
    await removeContainer(host, name).catch(() => undefined);
    throw new FerryError(ErrorCode.DeployFailed, `${name} did not start on ${host.name} (runc run exit ${run.code}, status ${after ?? 'absent'}). ${f.runcLog}: ${log}`, {
      details: { host: host.name, runcLog: log },
    });
  }
  const pid = await pidOf(host, name);
  const cgroup = await host.exec(['cat', `/proc/${pid}/cgroup`]);
  const cgroupsPath = spec.config.linux?.cgroupsPath ?? '';
  if (cgroup.code === 0 && !inCgroup(cgroup.stdout, cgroupsPath)) {
    throw new FerryError(ErrorCode.DeployFailed, `${name} (pid ${pid}) on ${host.name} is not in its cgroup ${cgroupsPath}: ${cgroup.stdout.trim().split('\n').join(' ')}`);
  }

  progress(`waiting for ${name}: ${describeHealth(spec.health)} (${spec.healthReason})`);
  await untilHealthy(host, spec, opts.healthTimeoutS ?? 60);
  return { host: host.name, name, pid, healthyAfterS: (performance.now() - started) / 1000 };
}

interface CopyOptions {
  /** Seconds for the whole copy. @defaultValue 1800 */
  copyTimeoutS?: number;
  /** Stops the copy (rsync is killed). */
  cancelSignal?: AbortSignal;
}

/** rsync from the controller to the host, with a known_hosts file made from the host's recorded key. */
export async function copyToHost(spec: HostSpec, localDir: string, remoteDir: string, opts: CopyOptions & { excludeConfig?: boolean } = {}): Promise<void> {
  await rsyncTo(spec, localDir, remoteDir, opts, (kh) => rsyncArgs(spec, localDir, remoteDir, kh, opts));
}

/** One file into `remoteDir` on the host (kept under its own name), by rsync as {@link copyToHost}. */
export async function copyFileToHost(spec: HostSpec, localFile: string, remoteDir: string, opts: CopyOptions = {}): Promise<void> {
  await rsyncTo(spec, localFile, remoteDir, opts, (kh) => rsyncFileArgs(spec, localFile, remoteDir, kh));
}

async function rsyncTo(spec: HostSpec, what: string, remoteDir: string, opts: CopyOptions, args: (knownHosts: string) => string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-known-hosts-'));
  try {
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, knownHostsLine(spec), { mode: 0o600 });
    await runLocal('rsync', args(knownHosts), { timeoutMs: (opts.copyTimeoutS ?? 1800) * 1000, cancelSignal: opts.cancelSignal });
  } catch (e) {
    // runLocal says ToolMissing for a program that is not on PATH; this says which package has it.
    if (isFerryError(e, ErrorCode.ToolMissing) || (isFerryError(e, ErrorCode.CommandFailed) && e.details?.code === -1)) {
      throw new FerryError(ErrorCode.ToolMissing, 'rsync is not installed on the controller: apt-get install rsync (scripts/setup.sh does)', { original: e });
    }
    if (isFerryError(e, ErrorCode.CommandFailed)) {
      throw new FerryError(ErrorCode.DeployFailed, `copying ${what} to ${spec.name}:${remoteDir} failed: ${e.message}`, { original: e, details: e.details });
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A rootfs tarball onto the host: copied once (as one file: far fewer round trips than rsyncing
 * hundreds of MiB of small files) into {@link HOST_ROOTFS_CACHE}, where older builds of the same
 * rootfs are pruned, then unpacked with owners by number into an empty `rootfsDir`.
 */
async function unpackOnHost(host: RemoteHost, upload: TarballUpload, rootfsDir: string, opts: DeployOptions): Promise<void> {
  const progress = opts.onProgress ?? (() => undefined);
  const file = basename(upload.tarball);
  if (!TARBALL_NAME.test(file)) throw new FerryError(ErrorCode.BundleInvalid, `${upload.tarball} is not a rootfs tarball (expected a name ending in .tar.zst)`);
  progress(`copying ${upload.tarball} to ${host.name}:${HOST_ROOTFS_CACHE}/ (skipped when it is there already)`);
  await copyFileToHost(host.spec, upload.tarball, HOST_ROOTFS_CACHE, opts);
  const stem = tarballStem(file);
  if (stem) await host.exec(['find', HOST_ROOTFS_CACHE, '-maxdepth', '1', '-type', 'f', '-name', `${stem}-*.tar.zst`, '!', '-name', file, '-delete']);
  progress(`unpacking ${file} into ${host.name}:${rootfsDir}`);
  // Whatever a removed container of this name left is not this rootfs: start from an empty directory.
  await host.run(['rm', '-rf', '--one-file-system', '--', rootfsDir]);
  await host.run(['install', '-d', '-m', '755', rootfsDir]);
  const r = await host.exec(unpackArgv(`${HOST_ROOTFS_CACHE}/${file}`, rootfsDir), { timeoutS: opts.copyTimeoutS ?? 1800 });
  if (r.code !== 0) {
    const err = r.stderr.trim().split('\n').slice(-3).join(' ');
    if (/zstd/.test(err) && /(not found|No such file|Cannot exec)/i.test(err)) {
      throw new FerryError(ErrorCode.ToolMissing, `zstd is not installed on ${host.name}, so tar cannot unpack ${file}: run ferry provision (playbooks/provision.yml installs it)`, { details: { host: host.name, stderr: err } });
    }
    throw new FerryError(ErrorCode.DeployFailed, `unpacking ${file} on ${host.name} failed (tar exit ${r.code}): ${err}`, { details: { host: host.name, stderr: err } });
  }
}

/** Polls the health check, failing at once if the container stops. */
async function untilHealthy(host: RemoteHost, spec: FerryContainerSpec, timeoutS: number): Promise<void> {
  const deadline = performance.now() + timeoutS * 1000;
  for (;;) {
    const status = await containerStatus(host, spec.name);
    if (status !== 'running') {
      const log = await logTail(host, hostFiles(spec.name).runcLog);
      throw new FerryError(ErrorCode.DeployFailed, `${spec.name} stopped on ${host.name} before it was healthy (status ${status ?? 'gone'}). runc log: ${log}`);
    }
    const left = (deadline - performance.now()) / 1000;
    const h = spec.health;
    const ok = h.kind === 'exec' ? await probeExec(host, spec.name, h, { timeoutS: Math.max(1, Math.ceil(left)) }) : (await waitHealthy(host.spec.address, h, Math.min(1, Math.max(left, 0.1)), 100)) !== null;
    if (ok) return;
    if (performance.now() >= deadline) {
      throw new FerryError(ErrorCode.HealthCheckFailed, `${spec.name} runs on ${host.name} but did not pass its health check (${describeHealth(h)}) within ${timeoutS} s; it is left running for inspection: ferry rm ${spec.name} removes it`);
    }
    if (h.kind === 'exec') await new Promise((r) => setTimeout(r, 200));
  }
}

async function pidOf(host: RemoteHost, name: string): Promise<number> {
  const out = await host.run(['runc', '--root', HOST_PATHS.runcRoot, 'state', name]);
  return (JSON.parse(out) as { pid: number }).pid;
}

async function logTail(host: RemoteHost, file: string): Promise<string> {
  const r = await host.exec(['tail', '-n', '20', file]).catch((e: unknown) => ({ stdout: `(cannot read: ${errorMessage(e)})` }));
  return r.stdout.trim().split('\n').join(' ') || '(empty)';
}

export interface RemoveOptions {
  /** Seconds between SIGTERM and SIGKILL. @defaultValue 10 */
  graceS?: number;
  /** Remove a paused container too (paused is what a migration's freeze looks like). @defaultValue false */
  force?: boolean;
}

/**
 * `ferry rm`: stops the container (SIGTERM, then SIGKILL after the grace time), deletes it with
 * whatever a failed restore left (src/migrate/debris.ts), and removes its bundle, pid file and
 * runc log. Refuses a name the host has neither as a container nor as files.
 */
export async function removeDeployed(host: RemoteHost, name: string, opts: RemoveOptions = {}): Promise<{ status: string | null }> {
  validateName('container', name);
  const f = hostFiles(name);
  const status = await containerStatus(host, name);
  const hasFiles = (await host.exec(['test', '-e', f.bundle])).code === 0;
  if (status === null && !hasFiles) throw new FerryError(ErrorCode.ContainerNotFound, `${host.name} has no container named ${name}`);
  if (status === 'paused' && !opts.force) {
    throw new FerryError(ErrorCode.PreflightFailed, `${name} is paused on ${host.name}, as during a migration's freeze: wait for the migration to end, or force the removal`);
  }
  if (status === 'running') {
    await host.exec(['runc', '--root', HOST_PATHS.runcRoot, 'kill', name, 'TERM']);
    const deadline = performance.now() + (opts.graceS ?? 10) * 1000;
    while (performance.now() < deadline && (await containerStatus(host, name)) === 'running') await new Promise((r) => setTimeout(r, 200));
  }
  await removeContainer(host, name);
  await host.run(['rm', '-rf', '--one-file-system', '--', f.bundle, f.pidFile, f.runcLog]);
  return { status };
}
