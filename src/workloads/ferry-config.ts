import { posix } from 'node:path';
import { ErrorCode, FerryError } from '../errors.ts';
import { cgroupPath } from '../hosts/paths.ts';
import { HEALTH_ANNOTATION, PORTS_ANNOTATION, describeHealth, formatHealth, healthSpecFromConfig, parseHealth, type HealthSpec } from '../migrate/health.ts';
import { mergeEnv } from './options.ts';
import { ferryBaseSpec, type ImageConfig, type OciLinux, type OciSpec, type OciUser } from './oci.ts';

/** runc hands this file to CRIU on checkpoint and restore (playbooks/files/criu.conf: tcp-close). */
export const CRIU_CONFIG_ANNOTATION = 'org.criu.config';
export const DEFAULT_CRIU_CONFIG = '/usr/local/libexec/ferry/criu.conf';
/** The annotation umoci writes with an image's exposed ports (`8080/tcp,53/udp`). */
export const IMAGE_PORTS_ANNOTATION = 'org.opencontainers.image.exposedPorts';
/** Docker's default, for an image whose environment has no PATH. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where a container's settings come from. */
export type ContainerSource =
  /** An image: its config, and the user umoci resolved against the image's own /etc/passwd. */
  | { kind: 'image'; image: ImageConfig; user: OciUser }
  /** An existing bundle's config.json. */
  | { kind: 'bundle'; config: OciSpec }
  /** A bare root filesystem: everything from the options. */
  | { kind: 'rootfs' };

/** What the operator asked for (`ferry deploy NAME --on HOST …`). */
export interface ContainerOptions {
  /** The container's name (already checked against src/util/names.ts by the refusals). */
  name: string;
  /** The host it starts on: its cgroup path is `/ferry/<host>/<name>`. */
  host: string;
  /**
   * `--cmd`: for an image it replaces the image's Cmd and keeps its Entrypoint (as `docker run
   * IMAGE CMD…`); for a bundle it replaces process.args; a rootfs needs it.
   */
  cmd?: readonly string[];
  /** `--env K=V`, repeatable: replaces the same key from the source, else is appended. */
  env?: readonly string[];
  /** `--port`: the container's TCP service ports; else the image's exposed TCP ports. */
  ports?: readonly number[];
  /** `--memory`, bytes: `linux.resources.memory.limit`. */
  memoryBytes?: number;
  /** `--health`; else chosen as {@link FerryContainerSpec.healthSource} says. */
  health?: HealthSpec;
  /** The CRIU options file named by the `org.criu.config` annotation. @defaultValue {@link DEFAULT_CRIU_CONFIG} */
  criuConfig?: string;
}

/** Where the health check came from: the option, the bundle's own annotation, the one `--port`, the one exposed port, or nowhere. */
export type HealthSource = 'option' | 'annotation' | 'port' | 'exposed-port' | 'none';

export interface FerryContainerSpec {
  name: string;
  host: string;
  /** The config.json to write into the bundle on the host. */
  config: OciSpec;
  health: HealthSpec;
  healthSource: HealthSource;
  /** Why this check (or none), in words for the operator. */
  healthReason: string;
  /** TCP service ports (also in the `org.ferry.ports` annotation). */
  ports: number[];
  /** What Ferry changed in the source's settings or filled in, each with why. */
  changes: string[];
}

/**
 * The config.json of a Ferry container: the source's process (an image's entrypoint, cmd, env,
 * workdir and user; a bundle's process; or the `--cmd` for a rootfs) with what migration needs:
 * the cgroup path `/ferry/<host>/<name>`, the host's network namespace (a private one is dropped),
 * pid/ipc/uts/mount namespaces, terminal false for images and rootfs, the CRIU options annotation,
 * the health annotation and the memory limit. Pure; {@link findRefusals} then says what cannot move.
 */
export function buildFerryConfig(source: ContainerSource, opts: ContainerOptions): FerryContainerSpec {
  const changes: string[] = [];
  const config = source.kind === 'bundle' ? normaliseBundle(source.config, changes) : ferryBaseSpec();
  const process = config.process!;

  if (source.kind === 'image') {
    const img = source.image;
    const entrypoint = img.Entrypoint ?? [];
    const args = [...entrypoint, ...(opts.cmd ?? img.Cmd ?? [])];
    if (args.length === 0) throw new FerryError(ErrorCode.BundleInvalid, `the image of ${opts.name} has no Entrypoint or Cmd: give the command with --cmd`);
    process.args = args;
    process.env = img.Env?.length ? [...img.Env] : [];
    process.cwd = absoluteCwd(img.WorkingDir);
    process.user = { ...source.user };
  } else if (source.kind === 'rootfs') {
    if (!opts.cmd?.length) throw new FerryError(ErrorCode.BundleInvalid, `a rootfs carries no command: give ${opts.name}'s with --cmd`);
    process.args = [...opts.cmd];
  } else if (opts.cmd?.length) {
    process.args = [...opts.cmd];
  }
  if (!process.args?.length) throw new FerryError(ErrorCode.BundleInvalid, `the bundle's config.json has no process.args: give ${opts.name}'s command with --cmd`);

  let env = process.env ?? [];
  if (!env.some((e) => e.startsWith('PATH=')) && !(opts.env ?? []).some((e) => e.startsWith('PATH='))) {
    env = [DEFAULT_PATH, ...env];
    changes.push('PATH set to the usual default: the source gave none');
  }
  process.env = mergeEnv(env, opts.env ?? []);
  if (process.env.some((e) => e.startsWith('FERRY_PORT='))) {
    changes.push("FERRY_PORT in the environment is not used for the health check: the org.ferry.health annotation decides");
  }

  if (source.kind !== 'bundle') config.hostname = opts.name;
  const linux: OciLinux = (config.linux ??= {});
  const cg = cgroupPath(opts.host, opts.name);
  if (linux.cgroupsPath && linux.cgroupsPath !== cg) changes.push(`cgroupsPath ${linux.cgroupsPath} replaced by ${cg}: each host has its own cgroup for a container`);
  linux.cgroupsPath = cg;
  if (opts.memoryBytes !== undefined) {
    linux.resources = { ...linux.resources, memory: { ...linux.resources?.memory, limit: opts.memoryBytes } };
  }

  const exposed = source.kind === 'image' ? Object.keys(source.image.ExposedPorts ?? {}) : splitList(config.annotations?.[IMAGE_PORTS_ANNOTATION]);
  const ports = opts.ports?.length ? [...opts.ports] : exposed.flatMap((p) => tcpPort(p) ?? []);
  const chosen = chooseHealth(changes, opts.health, source.kind === 'bundle' ? config.annotations : undefined, opts.ports ?? [], exposed, ports);

  const criuConfig = opts.criuConfig ?? DEFAULT_CRIU_CONFIG;
  const annotations = { ...config.annotations };
  if (annotations[CRIU_CONFIG_ANNOTATION] && annotations[CRIU_CONFIG_ANNOTATION] !== criuConfig) {
    changes.push(`${CRIU_CONFIG_ANNOTATION} ${annotations[CRIU_CONFIG_ANNOTATION]} replaced by ${criuConfig}: Ferry's migrations rely on its options (tcp-close)`);
  }
  annotations[CRIU_CONFIG_ANNOTATION] = criuConfig;
  annotations[HEALTH_ANNOTATION] = formatHealth(chosen.health);
  if (ports.length) annotations[PORTS_ANNOTATION] = ports.join(',');
  else delete annotations[PORTS_ANNOTATION];
  config.annotations = annotations;

  // The engine reads the check back from the annotation: make sure it reads what was chosen.
  const readBack = healthSpecFromConfig(config);
  if (JSON.stringify(readBack) !== JSON.stringify(chosen.health)) {
    throw new FerryError(ErrorCode.UsageError, `health check ${describeHealth(chosen.health)} does not survive its annotation (reads back as ${describeHealth(readBack)})`);
  }
  return { name: opts.name, host: opts.host, config, health: chosen.health, healthSource: chosen.source, healthReason: chosen.reason, ports, changes };
}

/** A user's bundle, made fit for Ferry where that can be done without changing what the program sees. */
function normaliseBundle(original: OciSpec, changes: string[]): OciSpec {
  const config = structuredClone(original);
  if (!config.process) throw new FerryError(ErrorCode.BundleInvalid, "the bundle's config.json has no process");
  config.process.terminal ??= false;
  config.process.cwd = absoluteCwd(config.process.cwd);
  config.root = { ...config.root, path: bundleRelativeRoot(config.root?.path ?? 'rootfs') };

  const cgroupMounts = (config.mounts ?? []).filter((m) => m.type === 'cgroup' || m.type === 'cgroup2');
  if (cgroupMounts.length) {
    config.mounts = (config.mounts ?? []).filter((m) => !cgroupMounts.includes(m));
    changes.push(`dropped the ${cgroupMounts.map((m) => m.destination).join(', ')} cgroup mount: Ferry's containers run without one, the layout its migrations are tested with`);
  }

  const linux: OciLinux = (config.linux ??= {});
  const namespaces = [];
  for (const ns of linux.namespaces ?? []) {
    if (ns.type === 'network' && !ns.path) {
      changes.push("dropped the private network namespace: Ferry's containers share their host's, so a restored container answers on its new host's address");
      continue;
    }
    namespaces.push({ ...ns });
  }
  for (const type of ['pid', 'ipc', 'uts', 'mount']) {
    if (!namespaces.some((ns) => ns.type === type)) {
      namespaces.push({ type });
      changes.push(`added a ${type} namespace: CRIU restores the container's processes into namespaces of their own`);
    }
  }
  linux.namespaces = namespaces;
  return config;
}

function chooseHealth(
  changes: string[],
  option: HealthSpec | undefined,
  annotations: Record<string, string> | undefined,
  portOption: readonly number[],
  exposed: readonly string[],
  ports: readonly number[],
): { health: HealthSpec; source: HealthSource; reason: string } {
  if (option) {
    // The engine reads an exec check's port from org.ferry.ports: the first service port, as written there.
    const health = option.kind === 'exec' ? { ...option, port: ports[0] ?? 0 } : option;
    return { health, source: 'option', reason: 'from --health' };
  }
  const own = annotations?.[HEALTH_ANNOTATION];
  if (own) {
    try {
      return { health: parseHealth(own, ports[0] ?? 0), source: 'annotation', reason: `from the bundle's ${HEALTH_ANNOTATION} annotation` };
    } catch {
      changes.push(`ignored the bundle's ${HEALTH_ANNOTATION} annotation '${own}': it is not a health check Ferry reads`);
    }
  }
  if (portOption.length === 1) return { health: { kind: 'tcp', port: portOption[0]! }, source: 'port', reason: `TCP connect to the one --port ${portOption[0]}` };
  if (portOption.length > 1) return none(`${portOption.length} ports given (${portOption.join(', ')}): pick the check with --health`);
  if (exposed.length === 1) {
    const port = tcpPort(exposed[0]!);
    if (port !== null) return { health: { kind: 'tcp', port }, source: 'exposed-port', reason: `TCP connect to the image's one exposed port ${exposed[0]}` };
    return none(`the image's one exposed port ${exposed[0]} is not TCP: pick the check with --health`);
  }
  if (exposed.length > 1) return none(`the image exposes ${exposed.length} ports (${exposed.join(', ')}): pick the check with --health`);
  return none('no --health, no --port and no exposed port: Ferry only checks that the container runs');
}

function none(reason: string): { health: HealthSpec; source: HealthSource; reason: string } {
  return { health: { kind: 'none' }, source: 'none', reason };
}

/** `8080/tcp` or `8080` → 8080; `53/udp` → null. */
function tcpPort(exposed: string): number | null {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(exposed.trim());
  if (!m || (m[2] && m[2].toLowerCase() !== 'tcp')) return null;
  const p = Number(m[1]);
  return p >= 1 && p <= 65535 ? p : null;
}

function splitList(s: string | undefined): string[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
}

function absoluteCwd(dir: string | undefined): string {
  // Docker reads a relative WorkingDir from /; the runtime spec requires an absolute cwd.
  return dir ? posix.normalize(`/${dir}`) : '/';
}

function bundleRelativeRoot(path: string): string {
  const p = posix.normalize(path).replace(/\/+$/, '');
  if (posix.isAbsolute(p) || p === '..' || p.startsWith('../') || p === '.') {
    throw new FerryError(ErrorCode.BundleInvalid, `root.path '${path}' is not a directory inside the bundle: Ferry copies the bundle to the host, so the rootfs must be in it (e.g. "rootfs")`);
  }
  return p;
}
