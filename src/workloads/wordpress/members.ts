import { ErrorCode, FerryError } from '../../errors.ts';
import { bundleDir } from '../../hosts/paths.ts';
import { parseHealth } from '../../migrate/health.ts';
import { NAME_PATTERN, validateName } from '../../util/names.ts';
import type { BundleFile } from '../deploy.ts';
import { buildFerryConfig, type FerryContainerSpec } from '../ferry-config.ts';
import { withGroup } from '../group.ts';
import type { OciSpec } from '../oci.ts';
import { assertMovable } from '../refusals.ts';
import { applyWordpressContainer, wordpressContainers, type OciSpec as WordpressBaseSpec, type RootfsKind, type WordpressOptions, type WordpressRole } from './spec.ts';

/** The bundle file that holds the two containers' CRIU options (workloads/wordpress/criu.conf). */
export const CRIU_CONF_FILE = 'criu.conf';

/** The roles in the order they start (and the group's order: the database first). */
export const START_ORDER: readonly WordpressRole[] = ['db', 'web'];

export interface WordpressDeployOptions extends WordpressOptions {
  /** The group's name; the containers are `<name>-db` and `<name>-web`. */
  name: string;
  /** The host both start on. */
  host: string;
  /** The text of workloads/wordpress/criu.conf (tcp-close, file-locks), shipped in each bundle. */
  criuConfigText: string;
}

/** One container of the workload, ready for deployContainer. */
export interface WordpressMember {
  role: WordpressRole;
  rootfs: RootfsKind;
  spec: FerryContainerSpec;
  /** Written into the bundle beside config.json. */
  files: BundleFile[];
}

/** `<name>-db` and `<name>-web`; throws when either would not be a valid container name. Pure. */
export function memberNames(name: string): Record<WordpressRole, string> {
  validateName('container', name);
  const names = { db: `${name}-db`, web: `${name}-web` };
  if (!NAME_PATTERN.test(names.web)) {
    throw new FerryError(ErrorCode.InvalidName, `the name ${name} is too long for a WordPress deploy: its containers ${names.db} and ${names.web} must be container names too, so use at most 27 characters`);
  }
  return names;
}

/**
 * The two containers of `ferry deploy wordpress NAME`, database first: Ferry's usual config
 * (buildFerryConfig from a rootfs: cgroup path, namespaces, health and ports annotations) turned
 * into each service's by applyWordpressContainer (its user, the identity user namespace, no
 * /sys), with the CRIU options file in the bundle itself and both labelled as one group. Pure.
 *
 * Why the CRIU options travel in the bundle rather than being installed by provision.yml: the
 * file must exist wherever the container is restored, and the bundle is exactly what every
 * migration copies to the target; hosts provisioned before this workload existed need nothing new.
 */
export function wordpressMembers(opts: WordpressDeployOptions): WordpressMember[] {
  const names = memberNames(opts.name);
  validateName('host', opts.host);
  const containers = wordpressContainers(opts);
  return START_ORDER.map((role, order) => {
    const c = containers[role];
    const name = names[role];
    const criuConfig = `${bundleDir(name)}/${CRIU_CONF_FILE}`;
    const base = buildFerryConfig(
      { kind: 'rootfs' },
      { name, host: opts.host, cmd: c.args, env: c.env, ports: [c.port], health: parseHealth(c.health, c.port), criuConfig },
    );
    const applied = applyWordpressContainer(asWordpressBase(base.config), c, criuConfig) as unknown as OciSpec;
    const config = withGroup(applied, { name: opts.name, order });
    assertMovable(config, name);
    const changes = [
      ...base.changes,
      `runs as uid ${c.user.uid} in a user namespace mapping every id to itself: CRIU can then read the rlimits of the service's own user`,
      'no /sys mount: sysfs cannot be mounted from a user namespace that does not own the network namespace',
      `CRIU options in ${criuConfig} (tcp-close, file-locks: MariaDB holds POSIX locks)`,
      `group ${opts.name}, order ${order}`,
    ];
    return { role, rootfs: c.rootfs, spec: { ...base, config, changes }, files: [{ name: CRIU_CONF_FILE, content: opts.criuConfigText }] };
  });
}

/** Ferry's base spec always has what applyWordpressContainer edits; a missing part is a bug. */
function asWordpressBase(config: OciSpec): WordpressBaseSpec {
  if (!config.process?.args || !config.process.env || !config.mounts || !config.linux?.namespaces) {
    throw new FerryError(ErrorCode.Internal, "Ferry's base spec lacks process.args, process.env, mounts or linux.namespaces");
  }
  return config as WordpressBaseSpec;
}
