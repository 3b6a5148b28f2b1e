import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { findHost, type HostSpec, type HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { runPlaybook } from '../infra/ansible.ts';
import type { Say } from '../infra/providers/provider.ts';
import { describeHealth } from '../migrate/health.ts';
import { validateName } from '../util/names.ts';
import { deployContainer, type BundleFile } from '../workloads/deploy.ts';
import type { ContainerOptions, FerryContainerSpec } from '../workloads/ferry-config.ts';
import { validateGroup, withGroup, type GroupLabel } from '../workloads/group.ts';
import { parseEnvAssignment } from '../workloads/options.ts';
import { preflightContainer } from '../workloads/preflight-read.ts';
import { prepareContainer, type BundleUpload, type ContainerInput, type PreparedContainer } from '../workloads/prepare.ts';
import type { Refusal } from '../workloads/refusals.ts';
import { memberNames, wordpressMembers } from '../workloads/wordpress/members.ts';
import { ensureRootfs } from '../workloads/wordpress/rootfs.ts';
import { DEFAULT_DB_PORT, DEFAULT_WEB_PORT, generateDbPassword, WORDPRESS_CRIU_CONFIG } from '../workloads/wordpress/spec.ts';
import { assertNamesFree, assertPortsFree, takeCensus } from './census.ts';
import { loadHosts } from './hosts.ts';

/** `ferry deploy NAME --on HOST (--image … | --bundle … | --rootfs … --cmd …) [options]`. */
export interface DeployRequest {
  name: string;
  host: string;
  input: ContainerInput;
  /** `--cmd`, `--env`, `--port`, `--memory`, `--health`. */
  options?: Omit<ContainerOptions, 'name' | 'host' | 'criuConfig'>;
  /** Label the container as a member of a group (`--group`, `--group-order`). */
  group?: GroupLabel;
}

export interface DeployDeps {
  config: FerryConfig;
  /** @defaultValue loaded from the configuration */
  hosts?: HostsFile;
  /** Progress lines. */
  say?: Say;
  cancelSignal?: AbortSignal;
}

/** What CRIU would make of the running container (the preflight a migration runs, read once now). */
export type Movability = { blockers: Refusal[]; dumpBytes: number; processes: number } | { error: string };

/** A container that runs and passed its health check. */
export interface DeployedContainer {
  name: string;
  host: string;
  /** Where it answers: containers share their host's network namespace. */
  address: string;
  pid: number;
  healthyAfterS: number;
  health: string;
  healthReason: string;
  ports: number[];
  /** What Ferry filled in or changed, each with why. */
  changes: string[];
  group?: GroupLabel;
  /** For `--image`: the image unpacked. */
  image?: PreparedContainer['image'];
  movable: Movability;
}

/**
 * The one deploy path: names checked; refused when any host of the inventory already has the
 * name (a container runs on one host only), naming where; the container prepared on the
 * controller in a temporary directory (removed after), with what CRIU cannot move refused and
 * why; its ports checked free on the host; copied there, started and waited for until healthy;
 * then read once by the CRIU preflight, whose findings come back as warnings.
 */
export async function deployContainerUseCase(req: DeployRequest, deps: DeployDeps): Promise<DeployedContainer> {
  validateName('container', req.name);
  validateName('host', req.host);
  if (req.group) validateGroup(req.group);
  // Whatever can be refused without a host is refused before one is asked.
  for (const e of req.options?.env ?? []) parseEnvAssignment(e);
  const hosts = deps.hosts ?? (await loadHosts(deps.config));
  const spec = findHost(hosts, req.host);
  const say = deps.say ?? (() => undefined);
  assertNamesFree([req.name], await takeCensus(deps.config, hosts));

  const workDir = await mkdtemp(path.join(tmpdir(), 'ferry-deploy-'));
  try {
    say(`preparing ${req.name} on the controller`);
    const prepared = await prepareContainer(req.input, { ...req.options, name: req.name, host: req.host }, workDir);
    const container = req.group ? { ...prepared.spec, config: withGroup(prepared.spec.config, req.group) } : prepared.spec;
    const deployed = await deployOne(spec, container, prepared.upload, [], deps, deps.config.healthTimeoutS);
    return { ...deployed, group: req.group, image: prepared.image };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The part every deploy shares: ports free, copy, start, healthy, preflight. */
async function deployOne(spec: HostSpec, container: FerryContainerSpec, upload: BundleUpload, files: readonly BundleFile[], deps: DeployDeps, healthTimeoutS: number): Promise<Omit<DeployedContainer, 'group' | 'image'>> {
  const host = new RemoteHost(spec, { defaultTimeoutS: deps.config.commandTimeoutS });
  try {
    await assertPortsFree(host, container.ports.map((port) => ({ port, option: `a port of ${container.name}` })));
    const r = await deployContainer(host, container, upload, { healthTimeoutS, cancelSignal: deps.cancelSignal, onProgress: deps.say, files });
    return {
      name: container.name,
      host: spec.name,
      address: spec.address,
      pid: r.pid,
      healthyAfterS: r.healthyAfterS,
      health: describeHealth(container.health),
      healthReason: container.healthReason,
      ports: container.ports,
      changes: container.changes,
      movable: await movability(host, container),
    };
  } finally {
    host.dispose();
  }
}

async function movability(host: RemoteHost, container: FerryContainerSpec): Promise<Movability> {
  try {
    const pre = await preflightContainer(host, container.name, { config: container.config });
    return { blockers: pre.blockers, dumpBytes: pre.estimate.pageBytes, processes: pre.estimate.processes };
  } catch (e) {
    return { error: `could not read ${container.name}'s processes for the CRIU preflight: ${errorMessage(e)}` };
  }
}

/** `ferry deploy wordpress NAME --on HOST [--web-port P] [--db-port P] [--front [--frontend-port F]]`. */
export interface WordpressRequest {
  /** The group's name: the containers are `<name>-db` and `<name>-web`. */
  name: string;
  host: string;
  /** @defaultValue 8081 */
  webPort?: number;
  /** @defaultValue 3306 */
  dbPort?: number;
  /** Put HAProxy in front of the web container (playbooks/haproxy.yml, as `ferry front`). @defaultValue false */
  front?: boolean;
  /** HAProxy's port with `front`. @defaultValue 80 */
  frontendPort?: number;
  /** Rebuild the root filesystems even when cached. @defaultValue false */
  rebuild?: boolean;
}

export interface DeployedWordpress {
  group: string;
  host: string;
  address: string;
  /** Database first, as started. */
  containers: DeployedContainer[];
  /** The site's address (through HAProxy with `front`). */
  url: string;
  front?: { port: number };
  /** The two rootfs tarballs, and whether this deploy built them. */
  rootfs: { kind: string; path: string; built: boolean }[];
}

/** The web container's first start installs WordPress (it waits for the database, then runs the installer): minutes on a slow host. */
const WORDPRESS_WEB_HEALTH_S = 300;

/**
 * The paper's workload: both names checked free everywhere and the ports on the host, both root
 * filesystems built or found in the cache (scripts/build-rootfs.sh), then `<name>-db` and
 * `<name>-web` through the same deploy path as any container, the database first and healthy
 * before the web container starts, both labelled as group `<name>`; with `front`, HAProxy in
 * front of the web container. A failure leaves what started running for inspection and says how
 * to remove it.
 */
export async function deployWordpressUseCase(req: WordpressRequest, deps: DeployDeps): Promise<DeployedWordpress> {
  const names = memberNames(req.name);
  validateName('host', req.host);
  const hosts = deps.hosts ?? (await loadHosts(deps.config));
  const spec = findHost(hosts, req.host);
  const say = deps.say ?? (() => undefined);
  const webPort = req.webPort ?? DEFAULT_WEB_PORT;
  const dbPort = req.dbPort ?? DEFAULT_DB_PORT;
  const frontendPort = req.frontendPort ?? 80;
  if (req.front && [webPort, dbPort].includes(frontendPort)) {
    throw new FerryError(ErrorCode.UsageError, `--frontend-port ${frontendPort} is also a container's port: HAProxy and the containers share the host's network`);
  }
  const members = wordpressMembers({ name: req.name, host: req.host, dbPassword: generateDbPassword(), dbPort, webPort, criuConfigText: await readFile(WORDPRESS_CRIU_CONFIG, 'utf8') });
  assertNamesFree([names.db, names.web], await takeCensus(deps.config, hosts));
  const precheck = new RemoteHost(spec, { defaultTimeoutS: deps.config.commandTimeoutS });
  try {
    await assertPortsFree(precheck, [
      { port: dbPort, option: '--db-port' },
      { port: webPort, option: '--web-port' },
      ...(req.front ? [{ port: frontendPort, option: '--frontend-port' }] : []),
    ]);
  } finally {
    precheck.dispose();
  }

  say('building or finding the mariadb and wordpress root filesystems (scripts/build-rootfs.sh; the first build takes minutes)');
  const tarballs = await ensureRootfs(['mariadb', 'wordpress'], { cacheDir: deps.config.cacheDir, onLine: say, cancelSignal: deps.cancelSignal, force: req.rebuild });

  const deployed: DeployedContainer[] = [];
  for (const m of members) {
    const tarball = tarballs.find((t) => t.kind === m.rootfs)!;
    try {
      say(`deploying ${m.spec.name} (${m.rootfs})`);
      const timeout = m.role === 'web' ? Math.max(deps.config.healthTimeoutS, WORDPRESS_WEB_HEALTH_S) : deps.config.healthTimeoutS;
      const one = await deployOne(spec, m.spec, { tarball: tarball.path, into: 'rootfs' }, m.files, deps, timeout);
      deployed.push({ ...one, group: { name: req.name, order: deployed.length } });
    } catch (e) {
      // The failed one may have left its files (a container that does not start keeps them for inspection).
      throw leftBehind(e, req.name, req.host, m.spec.name, deployed, [...deployed.map((c) => c.name), m.spec.name]);
    }
  }

  let url = `http://${spec.address}:${webPort}/`;
  if (req.front) {
    say(`putting HAProxy in front of ${names.web} on ${req.host}:${frontendPort} (playbooks/haproxy.yml)`);
    try {
      await runPlaybook('haproxy.yml', hosts.inventoryFile, { limit: req.host, extraVars: { name: names.web, port: webPort, frontend_port: frontendPort }, onLine: say, cancelSignal: deps.cancelSignal });
    } catch (e) {
      throw leftBehind(e, req.name, req.host, 'HAProxy', deployed, deployed.map((c) => c.name));
    }
    url = `http://${spec.address}:${frontendPort}/`;
  }
  return {
    group: req.name,
    host: req.host,
    address: spec.address,
    containers: deployed,
    url,
    ...(req.front ? { front: { port: frontendPort } } : {}),
    rootfs: tarballs.map((t) => ({ kind: t.kind, path: t.path, built: t.built })),
  };
}

/** The failure, with what runs now and the command that removes it (nothing is torn down behind the operator's back). */
export function leftBehind(e: unknown, group: string, host: string, failed: string, running: readonly Pick<DeployedContainer, 'name'>[], toRemove: readonly string[]): FerryError {
  const err = e instanceof FerryError ? e : new FerryError(ErrorCode.DeployFailed, errorMessage(e), { original: e });
  const left = running.length ? ` ${running.map((c) => c.name).join(' and ')} ${running.length > 1 ? 'run' : 'runs'} on ${host}.` : '';
  const remove = toRemove.length ? ` Remove what is left with: ferry rm ${toRemove.join(' ')} --on ${host}` : '';
  return new FerryError(err.code, `WordPress group ${group}: ${failed} failed: ${err.message.replace(/\.$/, '')}.${left}${remove}`, {
    original: e,
    details: { ...err.details, group, running: running.map((c) => c.name) },
  });
}
