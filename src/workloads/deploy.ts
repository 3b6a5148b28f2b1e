import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import type { BundleUpload } from './prepare.ts';

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
  const ssh = [
    'ssh', '-F', '/dev/null', '-i', spec.privateKeyFile, '-p', String(spec.port), '-l', spec.user,
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null',
  ].map(rsyncWord).join(' ');
  const address = spec.address.includes(':') ? `[${spec.address}]` : spec.address;
  return [
    '--archive', '--hard-links', '--numeric-ids', '--delete', '--mkpath',
    ...(opts.excludeConfig ? ['--exclude=/config.json'] : []),
    '-e', ssh, `${localDir.replace(/\/+$/, '')}/`, `${address}:${remoteDir.replace(/\/+$/, '')}/`,
  ];
}

/** runc run exactly as workload-host.sh starts Ferry's own containers: detached, stdio on /dev/null. Pure. */
export function runcRunArgv(name: string): string[] {
  const f = hostFiles(name);
  return [HOST_PATHS.detached, 'runc', '--root', HOST_PATHS.runcRoot, '--log', f.runcLog, 'run', '-d', '--pid-file', f.pidFile, '--bundle', f.bundle, name];
}

/** True when /proc/<pid>/cgroup puts the process in `path` (any v1 controller or the v2 tree). Pure. */
export function inCgroup(procCgroup: string, path: string): boolean {
  return procCgroup.split('\n').some((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1) === path);
}

export interface DeployOptions {
  /** Seconds to wait for the health check after the start. @defaultValue 60 */
  healthTimeoutS?: number;
  /** Seconds for the copy to the host. @defaultValue 1800 */
  copyTimeoutS?: number;
  cancelSignal?: AbortSignal;
  /** Progress lines (copy, start, health). */
  onProgress?: (line: string) => void;
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
  progress(`copying ${upload.localDir} to ${host.name}:${target}`);
  await copyToHost(host.spec, upload.localDir, target, { ...opts, excludeConfig: upload.into === 'bundle' });
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

/** rsync from the controller to the host, with a known_hosts file made from the host's recorded key. */
export async function copyToHost(spec: HostSpec, localDir: string, remoteDir: string, opts: { excludeConfig?: boolean; copyTimeoutS?: number; cancelSignal?: AbortSignal } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-known-hosts-'));
  try {
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, knownHostsLine(spec), { mode: 0o600 });
    await runLocal('rsync', rsyncArgs(spec, localDir, remoteDir, knownHosts, opts), { timeoutMs: (opts.copyTimeoutS ?? 1800) * 1000, cancelSignal: opts.cancelSignal });
  } catch (e) {
    // runLocal says ToolMissing for a program that is not on PATH; this says which package has it.
    if (isFerryError(e, ErrorCode.ToolMissing) || (isFerryError(e, ErrorCode.CommandFailed) && e.details?.code === -1)) {
      throw new FerryError(ErrorCode.ToolMissing, 'rsync is not installed on the controller: apt-get install rsync (scripts/setup.sh does)', { original: e });
    }
    if (isFerryError(e, ErrorCode.CommandFailed)) {
      throw new FerryError(ErrorCode.DeployFailed, `copying ${localDir} to ${spec.name}:${remoteDir} failed: ${e.message}`, { original: e, details: e.details });
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
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
