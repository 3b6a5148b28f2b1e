import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';

/**
 * The paper's workload: WordPress (Apache, mod_php, Debian's wordpress package) and MariaDB 10.11,
 * two containers built by scripts/build-rootfs.sh. This module says how to run them; it starts
 * nothing. See workloads/wordpress/README.md for the why of each setting.
 */

/** The two root filesystems scripts/build-rootfs.sh builds. */
export type RootfsKind = 'mariadb' | 'wordpress';

/** The two containers: `db` runs the mariadb rootfs, `web` the wordpress rootfs. */
export type WordpressRole = 'db' | 'web';

export const ROOTFS_OF: Readonly<Record<WordpressRole, RootfsKind>> = { db: 'mariadb', web: 'wordpress' };

/** Default ports (both bound on 0.0.0.0 of the host's network namespace, which the containers share). */
export const DEFAULT_DB_PORT = 3306;
export const DEFAULT_WEB_PORT = 8081;

/** CRIU's options for both containers: tcp-close and file-locks (MariaDB holds POSIX locks). */
export const WORDPRESS_CRIU_CONFIG = path.join(REPO_ROOT, 'workloads', 'wordpress', 'criu.conf');

/**
 * Each container runs as its Debian user inside a user namespace that maps every id to itself.
 * Why a user namespace at all: CRIU reads each task's rlimits with prlimit(2), which for a task of
 * another uid needs CAP_SYS_RESOURCE over the task's user namespace. Root on the machines Ferry's
 * tests run on lacks CAP_SYS_RESOURCE, but owns any user namespace it creates, which grants it.
 */
export const IDENTITY_ID_MAPPING: readonly { containerID: number; hostID: number; size: number }[] = [{ containerID: 0, hostID: 0, size: 65536 }];

/** uid = gid of the process each container starts as (mysql is fixed at build time; www-data by base-passwd). */
export const RUN_AS: Readonly<Record<WordpressRole, number>> = { db: 999, web: 33 };

const PASSWORD_PATTERN = /^[A-Za-z0-9._~+=/-]{8,128}$/;
const HOST_PATTERN = /^[A-Za-z0-9.:-]{1,253}$/;

export interface WordpressOptions {
  /** Password of the database account, given to both containers (8 to 128 of letters, digits and `. _ ~ + = / -`); see {@link generateDbPassword}. */
  dbPassword: string;
  /** MariaDB's TCP port. @defaultValue 3306 */
  dbPort?: number;
  /** Apache's HTTP port (1024 or above: the containers cannot bind privileged ports of the host's namespace). @defaultValue 8081 */
  webPort?: number;
  /** Where the web container reaches the database. @defaultValue '127.0.0.1' (both containers on one host) */
  dbHost?: string;
  /** The site's title at the first start. @defaultValue 'Ferry WordPress' */
  title?: string;
}

/** How one container is run: everything its config.json needs beyond Ferry's usual spec. */
export interface WordpressContainer {
  role: WordpressRole;
  rootfs: RootfsKind;
  /** process.args: the entrypoint, which execs the service in the foreground (it never forks away). */
  args: string[];
  /** process.env, `KEY=value`. */
  env: string[];
  /** process.user: the service's own user (see {@link IDENTITY_ID_MAPPING}). */
  user: { uid: number; gid: number };
  /** The annotation org.ferry.health (src/migrate/health.ts). */
  health: string;
  /** The TCP port it listens on, on 0.0.0.0. */
  port: number;
  /** What stays running: runc's init process, the rest are its children. */
  process: string;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The two containers of one deploy. Pure; throws a usage error naming the bad option. */
export function wordpressContainers(opts: WordpressOptions): Record<WordpressRole, WordpressContainer> {
  const password = validateDbPassword(opts.dbPassword);
  const dbPort = port('dbPort', opts.dbPort ?? DEFAULT_DB_PORT);
  const webPort = port('webPort', opts.webPort ?? DEFAULT_WEB_PORT);
  if (dbPort === webPort) throw usage(`dbPort and webPort are both ${dbPort}: the containers share the host's network namespace, give them different ports`);
  const dbHost = opts.dbHost ?? '127.0.0.1';
  if (!HOST_PATTERN.test(dbHost)) throw usage(`dbHost '${dbHost}' is not a host name or address`);
  const title = opts.title ?? 'Ferry WordPress';
  if (title.length === 0 || title.length > 200 || /[\0\n\r]/.test(title)) throw usage('title must be one line of 1 to 200 characters');
  return {
    db: {
      role: 'db',
      rootfs: ROOTFS_OF.db,
      args: ['/usr/local/sbin/ferry-db-start'],
      env: [PATH_ENV, `DB_PORT=${dbPort}`, 'DB_NAME=wordpress', 'DB_USER=wordpress', `DB_PASSWORD=${password}`],
      user: { uid: RUN_AS.db, gid: RUN_AS.db },
      health: `tcp:${dbPort}`,
      port: dbPort,
      process: 'mariadbd (one process, many threads)',
    },
    web: {
      role: 'web',
      rootfs: ROOTFS_OF.web,
      args: ['/usr/local/sbin/ferry-web-start'],
      env: [
        PATH_ENV,
        `WP_PORT=${webPort}`,
        `DB_HOST=${dbHost}`,
        `DB_PORT=${dbPort}`,
        'DB_NAME=wordpress',
        'DB_USER=wordpress',
        `DB_PASSWORD=${password}`,
        `WP_TITLE=${title}`,
      ],
      user: { uid: RUN_AS.web, gid: RUN_AS.web },
      // The home page reads the database: healthy means the whole stack answers.
      health: `http:${webPort}:/`,
      port: webPort,
      process: 'apache2 -DFOREGROUND (prefork: the parent and its worker processes)',
    },
  };
}

/** A fresh database password for one deploy (24 characters of the URL-safe base64 alphabet). */
export function generateDbPassword(): string {
  return randomBytes(18).toString('base64url');
}

export function validateDbPassword(pw: string): string {
  if (!PASSWORD_PATTERN.test(pw)) throw usage('dbPassword must be 8 to 128 of: letters, digits and . _ ~ + = / -');
  return pw;
}

/** The parts of an OCI runtime spec that {@link applyWordpressContainer} reads and writes. */
export interface OciSpec {
  process: { args: string[]; env: string[]; user: { uid: number; gid: number }; [k: string]: unknown };
  mounts: { destination: string; [k: string]: unknown }[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/**
 * Turns Ferry's usual container spec (playbooks/templates/config.json.j2) into this container's:
 * its process, user and health annotation, the identity user namespace, CRIU's config file, and
 * no /sys mount. Pure: returns a new object.
 *
 * Why no /sys: sysfs can only be mounted from a user namespace that owns the network namespace,
 * and these containers share the host's; a read-only bind of the host's /sys instead makes
 * CRIU's restore fail (`mnt-v2: Failed to open_tree /sys`). Neither service reads /sys.
 */
export function applyWordpressContainer<T extends OciSpec>(base: T, c: WordpressContainer, criuConfig: string = WORDPRESS_CRIU_CONFIG): T {
  const spec = structuredClone(base);
  spec.process.args = [...c.args];
  spec.process.env = [...c.env];
  spec.process.user = { ...c.user };
  spec.mounts = spec.mounts.filter((m) => m.destination !== '/sys');
  spec.annotations = { ...spec.annotations, 'org.criu.config': criuConfig, 'org.ferry.health': c.health };
  if (!spec.linux.namespaces.some((n) => n.type === 'user')) spec.linux.namespaces.push({ type: 'user' });
  spec.linux.uidMappings = IDENTITY_ID_MAPPING.map((m) => ({ ...m }));
  spec.linux.gidMappings = IDENTITY_ID_MAPPING.map((m) => ({ ...m }));
  return spec;
}

function port(name: string, p: number): number {
  if (!Number.isInteger(p) || p < 1024 || p > 65535) throw usage(`${name} must be a port from 1024 to 65535 (got ${p})`);
  return p;
}

function usage(message: string): FerryError {
  return new FerryError(ErrorCode.UsageError, message);
}
