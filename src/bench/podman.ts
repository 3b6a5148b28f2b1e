/**
 * The benchmark's peer: Podman moving the same web workload between the same two hosts, the way
 * a user without Ferry would (checkpoint --export on the source, the archive copied host to host
 * over SSH like Ferry's own transfers, restore --import on the target).
 *
 * Podman on a Ferry host keeps all its state under Ferry's per-host directories: the namespace
 * lab's hosts share the controller's root filesystem but each has its own /var/lib/ferry and /run,
 * so two hosts' Podman never see each other's containers. The argument builders and parsers are
 * pure; {@link PodmanPeer} runs them over SSH.
 */
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { HostLink } from '../migrate/HostLink.ts';
import { waitHealthy } from '../migrate/health.ts';
import { validateName } from '../util/names.ts';

/** Where Podman keeps its state on a Ferry host. */
export interface PodmanPaths {
  /** containers.conf, named by CONTAINERS_CONF. */
  conf: string;
  /** `--root`: images, containers, libpod's database. */
  storage: string;
  /** `--runroot`: runtime state (per host: /run is each host's own). */
  runroot: string;
  /** Podman's tmp_dir (its "has the host rebooted" marker lives there, so it belongs on /run). */
  tmp: string;
  /** Network configuration (unused with --network host, but kept off the shared /etc). */
  networks: string;
  /** The image's rootfs, its tarball and the saved image. */
  image: string;
  /** One directory per move, holding the checkpoint archive. */
  exports: string;
}

export const PODMAN_PATHS: PodmanPaths = Object.freeze({
  conf: '/var/lib/ferry/podman/containers.conf',
  storage: '/var/lib/ferry/podman/storage',
  runroot: '/run/ferry/podman',
  tmp: '/run/ferry/podman-tmp',
  networks: '/var/lib/ferry/podman/networks',
  image: '/var/lib/ferry/podman/image',
  exports: '/var/lib/ferry/podman/export',
});

/** The workload's image, built from Ferry's web rootfs (images cannot be pulled here). */
export const PODMAN_IMAGE = 'localhost/ferry-bench-web:1';

/** `podman run` fails with "error setting rlimit type 7" above these here: no CAP_SYS_RESOURCE. */
export const PODMAN_ULIMITS: readonly string[] = ['nofile=20000:20000', 'nproc=4096:4096'];

/**
 * containers.conf for Ferry's Podman: runc (and through it the CRIU on PATH), cgroupfs, events
 * to a file, the ulimits above, logs to a file under Podman's own storage (journald is not
 * reachable from a lab host's private /run), and file locks in its tmp_dir: the default
 * shared-memory locks live in /dev/shm, which the namespace lab's hosts share.
 */
export function containersConf(p: PodmanPaths = PODMAN_PATHS): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  return [
    "# Written by Ferry's benchmark (src/bench/podman.ts): Podman with state of its own on this host.",
    '[containers]',
    `default_ulimits = ${list(PODMAN_ULIMITS)}`,
    'log_driver = "k8s-file"',
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    'lock_type = "file"',
    `tmp_dir = ${JSON.stringify(p.tmp)}`,
    '',
    '[network]',
    `network_config_dir = ${JSON.stringify(p.networks)}`,
    '',
  ].join('\n');
}

/** A podman command line with Ferry's configuration and per-host storage. */
export function podmanArgv(args: readonly string[], p: PodmanPaths = PODMAN_PATHS): string[] {
  return ['env', `CONTAINERS_CONF=${p.conf}`, 'podman', '--root', p.storage, '--runroot', p.runroot, '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args];
}

/** The web workload as Ferry deploys it (workloads/README.md), in a Podman container. */
export interface PodmanWebSpec {
  name: string;
  /** Port it answers on, on the host's address (host network, like Ferry's containers). */
  port: number;
  /** Memory ballast, MiB (incompressible). */
  mib: number;
  dirtyMiBPerS: number;
  /** @defaultValue 100 */
  intervalMs?: number;
  /** @defaultValue PODMAN_IMAGE */
  image?: string;
}

export function runArgv(s: PodmanWebSpec): string[] {
  validateName('container', s.name);
  const env = [`FERRY_NAME=${s.name}`, `FERRY_PORT=${s.port}`, `BALLAST_MIB=${s.mib}`, `DIRTY_MIB_PER_S=${s.dirtyMiBPerS}`, `INTERVAL_MS=${s.intervalMs ?? 100}`];
  return [
    'run', '-d', '--name', s.name, '--network', 'host',
    ...PODMAN_ULIMITS.flatMap((u) => ['--ulimit', u]),
    ...env.flatMap((e) => ['--env', e]),
    '--workdir', '/www', s.image ?? PODMAN_IMAGE, '/bin/sh', '/start.sh',
  ];
}

/** Uncompressed: the ballast is incompressible anyway, and zstd would only cost CPU inside the freeze. */
export function checkpointArgv(name: string, archive: string): string[] {
  validateName('container', name);
  return ['container', 'checkpoint', '--export', archive, '--compress', 'none', '--print-stats', name];
}

/** Restores under a new name: a new container id, so a new cgroup beside the old one's (the namespace lab shares one cgroup tree). */
export function restoreArgv(archive: string, name: string): string[] {
  validateName('container', name);
  return ['container', 'restore', '--import', archive, '--name', name, '--print-stats'];
}

export function importArgv(rootfsTar: string, image = PODMAN_IMAGE): string[] {
  return ['import', '--change', 'CMD ["/bin/sh", "/start.sh"]', '--change', 'WORKDIR /www', rootfsTar, image];
}

/**
 * save/load rather than importing the same rootfs on both hosts: a restore needs the very image
 * id the checkpoint names, and an import on another host gives another id.
 */
export function saveArgv(archive: string, image = PODMAN_IMAGE): string[] {
  return ['save', '--format', 'docker-archive', '-o', archive, image];
}

export function loadArgv(archive: string): string[] {
  return ['load', '-i', archive];
}

export function rmArgv(name: string): string[] {
  validateName('container', name);
  return ['rm', '-f', '--ignore', name];
}

/** Every container in Ferry's own Podman storage (nothing else lives there: leftovers of an interrupted benchmark). */
export const RM_ALL_ARGV: readonly string[] = ['rm', '-f', '-a'];

export function rmiArgv(image = PODMAN_IMAGE): string[] {
  return ['rmi', '-f', '--ignore', image];
}

/** "podman version 4.3.1" → "4.3.1". */
export function parsePodmanVersion(out: string): string | null {
  return /^podman version (\S+)/m.exec(out.trim())?.[1] ?? null;
}

/** CRIU's and Podman's figures for one checkpoint (`--print-stats`), microseconds. */
export interface PodmanCheckpointStats {
  podmanUs: number;
  runtimeUs: number;
  freezingUs: number;
  frozenUs: number;
  memdumpUs: number;
  memwriteUs: number;
  pagesScanned: number;
  pagesWritten: number;
}

export interface PodmanRestoreStats {
  podmanUs: number;
  runtimeUs: number;
  forkingUs: number;
  restoreUs: number;
  pagesRestored: number;
}

type Json = Record<string, unknown>;

function statsJson(text: string, what: string): { top: Json; container: Json; criu: Json } {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  let top: unknown;
  try {
    top = start >= 0 && end > start ? JSON.parse(text.slice(start, end + 1)) : undefined;
  } catch {
    top = undefined;
  }
  if (typeof top !== 'object' || top === null) throw new FerryError(ErrorCode.PeerFailed, `podman ${what} --print-stats printed no JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  const list = (top as Json).container_statistics;
  const container = Array.isArray(list) && typeof list[0] === 'object' && list[0] !== null ? (list[0] as Json) : {};
  const criu = typeof container.criu_statistics === 'object' && container.criu_statistics !== null ? (container.criu_statistics as Json) : {};
  return { top: top as Json, container, criu };
}

const n = (o: Json, k: string): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);

export function parseCheckpointStats(text: string): PodmanCheckpointStats {
  const { top, container, criu } = statsJson(text, 'container checkpoint');
  return {
    podmanUs: n(top, 'podman_checkpoint_duration'),
    runtimeUs: n(container, 'runtime_checkpoint_duration'),
    freezingUs: n(criu, 'freezing_time'),
    frozenUs: n(criu, 'frozen_time'),
    memdumpUs: n(criu, 'memdump_time'),
    memwriteUs: n(criu, 'memwrite_time'),
    pagesScanned: n(criu, 'pages_scanned'),
    pagesWritten: n(criu, 'pages_written'),
  };
}

export function parseRestoreStats(text: string): PodmanRestoreStats {
  const { top, container, criu } = statsJson(text, 'container restore');
  return {
    podmanUs: n(top, 'podman_restore_duration'),
    runtimeUs: n(container, 'runtime_restore_duration'),
    forkingUs: n(criu, 'forking_time'),
    restoreUs: n(criu, 'restore_time'),
    pagesRestored: n(criu, 'pages_restored'),
  };
}

/** One move of the Podman container, timed like Ferry's columns (seconds). */
export interface PeerMove {
  from: string;
  to: string;
  /** The container's name on the target. */
  name: string;
  outcome: 'migrated' | 'rolled-back';
  error?: string;
  times: { checkpoint: number | null; transfer: number | null; restore: number | null; downtime: number | null; total: number };
  /** rsync's bytes sent for the archive. */
  bytes: number;
  archiveBytes: number;
  checkpoint: PodmanCheckpointStats | null;
  restore: PodmanRestoreStats | null;
}

export interface PodmanPeerOptions {
  /** Seconds to wait for a started or restored container's first answer. @defaultValue 120 */
  healthTimeoutS?: number;
  /** For one podman command on a host. @defaultValue 900 */
  commandTimeoutS?: number;
  say?: (line: string) => void;
}

const now = () => performance.now();
const secs = (a: number, b: number) => (b - a) / 1000;

/**
 * Podman on two hosts: prepares the image on both, runs the web workload, and moves it back and
 * forth. The archive goes host to host through a {@link HostLink} (rsync over SSH, the same as
 * Ferry's transfers), with its SSH connection opened before the clock starts, as Ferry's is.
 */
export class PodmanPeer {
  private link?: HostLink;
  private readonly instances = new Map<string, string>();
  private readonly healthTimeoutS: number;
  private readonly timeoutS: number;

  constructor(
    private readonly a: RemoteHost,
    private readonly b: RemoteHost,
    private readonly opts: PodmanPeerOptions = {},
  ) {
    this.healthTimeoutS = opts.healthTimeoutS ?? 120;
    this.timeoutS = opts.commandTimeoutS ?? 900;
  }

  /** Podman's version on a host, or null when it is not installed. */
  static async version(h: RemoteHost): Promise<string | null> {
    const r = await h.exec(['podman', '--version'], { timeoutS: 60, idempotent: true });
    return r.code === 0 ? parsePodmanVersion(r.stdout) : null;
  }

  private podman(h: RemoteHost, args: readonly string[], what: string): Promise<string> {
    return h.run(podmanArgv(args), { timeoutS: this.timeoutS }).catch((e: unknown) => {
      throw new FerryError(ErrorCode.PeerFailed, `podman ${what} on ${h.name} failed: ${errorMessage(e)}`, { original: e, details: { host: h.name } });
    });
  }

  /**
   * Both hosts get the configuration and the image (built on `a` from Ferry's web rootfs, saved,
   * copied and loaded on `b`, so both hold the same image id). Needs Ferry's workload kit on `a`
   * (playbooks/workload.yml ships it with the first web deploy).
   */
  async prepare(): Promise<void> {
    const P = PODMAN_PATHS;
    for (const h of [this.a, this.b]) {
      await h.writeFile(P.conf, containersConf());
      await h.run(['mkdir', '-p', P.storage, P.runroot, P.tmp, P.networks, `${P.image}/archive`, P.exports], { idempotent: true });
    }
    for (const h of [this.a, this.b]) await this.podman(h, RM_ALL_ARGV, 'rm -a');
    const mkrootfs = `${HOST_PATHS.libexec}/mkrootfs.sh`;
    const ballast = `${HOST_PATHS.libexec}/ferry-ballast`;
    if ((await this.a.exec(['test', '-x', mkrootfs, '-a', '-x', ballast])).code !== 0) {
      throw new FerryError(ErrorCode.PeerFailed, `${mkrootfs} or ${ballast} is missing on ${this.a.name}: deploy a web workload there first (playbooks/workload.yml ships them)`, { details: { host: this.a.name } });
    }
    this.opts.say?.(`podman: building ${PODMAN_IMAGE} on ${this.a.name} and loading it on ${this.b.name}`);
    await this.a.run([mkrootfs, 'web', `${P.image}/rootfs`, '--ballast', ballast], { timeoutS: this.timeoutS });
    await this.a.run(['tar', '-C', `${P.image}/rootfs`, '-cf', `${P.image}/rootfs.tar`, '.'], { timeoutS: this.timeoutS });
    await this.podman(this.a, rmiArgv(), 'rmi');
    await this.podman(this.a, importArgv(`${P.image}/rootfs.tar`), 'import');
    await this.podman(this.a, saveArgv(`${P.image}/archive/image.tar`), 'save');
    this.link = await HostLink.open(`bench-podman-${Date.now().toString(36)}`, this.a, this.b);
    await this.link.push(this.a, `${P.image}/archive`, `${P.image}/archive`);
    await this.podman(this.b, rmiArgv(), 'rmi');
    await this.podman(this.b, loadArgv(`${P.image}/archive/image.tar`), 'load');
  }

  private async instance(h: RemoteHost, port: number): Promise<string> {
    const r = await fetch(`http://${h.spec.address}:${port}/instance`, { signal: AbortSignal.timeout(5000) });
    return (await r.text()).trim();
  }

  private async healthy(h: RemoteHost, port: number): Promise<boolean> {
    return (await waitHealthy(h.spec.address, { kind: 'http', port, path: '/counter' }, this.healthTimeoutS)) !== null;
  }

  /** Starts the workload on `on` and waits for its first answer (the ballast filled). */
  async start(on: RemoteHost, spec: PodmanWebSpec): Promise<void> {
    await this.podman(on, rmArgv(spec.name), 'rm');
    await this.podman(on, runArgv(spec), 'run');
    if (!(await this.healthy(on, spec.port))) throw new FerryError(ErrorCode.PeerFailed, `the Podman container ${spec.name} on ${on.name} did not answer on port ${spec.port} within ${this.healthTimeoutS} s`);
    this.instances.set(spec.name, await this.instance(on, spec.port));
  }

  /**
   * Moves `name` from `from` to `to` as `newName`. Downtime runs from the start of the checkpoint
   * (the container freezes at once) to the restored container's first answer, asked from the
   * controller exactly as Ferry's health check asks. A failed copy or restore brings the container
   * back on the source from the same archive; the move then says `rolled-back`.
   */
  async move(from: RemoteHost, to: RemoteHost, name: string, newName: string, port: number): Promise<PeerMove> {
    if (!this.link) throw new FerryError(ErrorCode.Internal, 'PodmanPeer.prepare() must run before move()');
    const dir = `${PODMAN_PATHS.exports}/${newName}`;
    const archive = `${dir}/checkpoint.tar`;
    await from.run(['mkdir', '-p', dir], { idempotent: true });
    await this.link.warm(from);
    const times: PeerMove['times'] = { checkpoint: null, transfer: null, restore: null, downtime: null, total: 0 };
    let checkpoint: PodmanCheckpointStats | null = null;
    let restore: PodmanRestoreStats | null = null;
    let bytes = 0;
    let archiveBytes = 0;
    const t0 = now();
    try {
      checkpoint = parseCheckpointStats(await this.podman(from, checkpointArgv(name, archive), 'container checkpoint'));
      const t1 = now();
      times.checkpoint = secs(t0, t1);
      bytes = await this.link.push(from, dir, dir);
      const t2 = now();
      times.transfer = secs(t1, t2);
      try {
        restore = parseRestoreStats(await this.podman(to, restoreArgv(archive, newName), 'container restore'));
        times.restore = secs(t2, now());
        if (!(await this.healthy(to, port))) throw new FerryError(ErrorCode.PeerFailed, `the restored ${newName} on ${to.name} did not answer within ${this.healthTimeoutS} s`);
        times.downtime = secs(t0, now());
        const was = this.instances.get(name);
        const is = await this.instance(to, port);
        if (was !== undefined && is !== was) throw new FerryError(ErrorCode.PeerFailed, `${newName} on ${to.name} answers instance ${is}, not ${was}: it restarted instead of being restored`);
        this.instances.delete(name);
        this.instances.set(newName, is);
      } catch (e) {
        await this.podman(to, rmArgv(newName), 'rm').catch(() => undefined);
        throw e;
      }
      archiveBytes = Number((await from.run(['stat', '-c', '%s', archive], { idempotent: true })).trim()) || 0;
      await this.podman(from, rmArgv(name), 'rm');
      times.total = secs(t0, now());
      return { from: from.name, to: to.name, name: newName, outcome: 'migrated', times, bytes, archiveBytes, checkpoint, restore };
    } catch (e) {
      // Never lose the container: where the checkpoint exists, bring it back on the source.
      if (checkpoint) {
        await this.podman(from, rmArgv(name), 'rm').catch(() => undefined);
        await this.podman(from, restoreArgv(archive, newName), 'container restore (rollback)');
        if (!(await this.healthy(from, port))) throw new FerryError(ErrorCode.PeerFailed, `rolled back ${newName} on ${from.name}, but it does not answer`, { original: e });
        this.instances.set(newName, this.instances.get(name) ?? '');
        this.instances.delete(name);
      } else if (!(await this.healthy(from, port))) {
        throw e;
      }
      times.total = secs(t0, now());
      return { from: from.name, to: to.name, name: checkpoint ? newName : name, outcome: 'rolled-back', error: errorMessage(e), times, bytes, archiveBytes, checkpoint, restore };
    } finally {
      for (const h of [from, to]) await h.exec(['rm', '-rf', dir], { idempotent: true }).catch(() => undefined);
    }
  }

  /** Removes a container (wherever it is given). */
  async remove(on: RemoteHost, name: string): Promise<void> {
    await this.podman(on, rmArgv(name), 'rm');
    this.instances.delete(name);
  }

  /** Closes the link and removes the image and its build files from both hosts (Podman's storage itself stays, empty). */
  async close(): Promise<void> {
    await this.link?.close();
    this.link = undefined;
    for (const h of [this.a, this.b]) {
      await this.podman(h, rmiArgv(), 'rmi').catch(() => undefined);
      await h.exec(['rm', '-rf', PODMAN_PATHS.image, PODMAN_PATHS.exports], { idempotent: true }).catch(() => undefined);
    }
  }
}
