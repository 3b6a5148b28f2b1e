import { ErrorCode, FerryError } from '../errors.ts';
import { memberNames } from '../workloads/wordpress/members.ts';

/** workload.yml's variables for one container. */
export type DeployVars = Record<string, string | number | boolean>;

/** What every workload the benchmark moves has, as data. */
interface WorkloadBase {
  /** Its name in `--workloads`. */
  name: string;
  /** For table headings. */
  title: string;
  /** `sweep`: every size of `--sizes`; `one`: a single size (`--kv-mib` for kv, its own for a group). */
  sizing: 'sweep' | 'one';
  /** Its (web) service port on the host's address. */
  port: number;
  /** Podman can move it too (its image is built from Ferry's web rootfs). */
  peer: boolean;
  /** An HTTP service of one container: it gets the rows behind HAProxy, with the load probe. */
  front: boolean;
}

/** One container, deployed by playbooks/workload.yml and moved by `runMigration`. */
export interface ContainerWorkload extends WorkloadBase {
  moves: 'container';
  /** The lab container the Ferry rows move. */
  container: string;
  /** playbooks/workload.yml's variables for a container of `mib` MiB. */
  deployVars(mib: number, o: { dirtyMiBPerS: number; container: string; port: number }): DeployVars;
}

/**
 * Containers deployed together and moved as one (`ferry deploy wordpress`, then `ferry migrate
 * --group`): the deploy and the move are the use cases' own, so the runner only names the group.
 */
export interface GroupWorkload extends WorkloadBase {
  moves: 'group';
  /** The group's name (its members are `<group>-db` and `<group>-web`). */
  group: string;
  /** The database's port. */
  dbPort: number;
  /**
   * What the size check asks the hosts to hold, MiB. The pair's size is not a knob: the cell
   * itself reports the members' memory as their cgroups charge it once deployed.
   */
  mib: number;
}

export type BenchWorkload = ContainerWorkload | GroupWorkload;

export const WEB: ContainerWorkload = {
  moves: 'container',
  name: 'web',
  title: 'web (busybox httpd + incompressible ballast)',
  sizing: 'sweep',
  container: 'bench-web',
  port: 8090,
  deployVars: (mib, o) => ({ workload: 'web', name: o.container, ballast_mib: mib, dirty_mib_per_s: o.dirtyMiBPerS, port: o.port, replace: true }),
  peer: true,
  front: true,
};

export const KV: ContainerWorkload = {
  moves: 'container',
  name: 'kv',
  title: 'kv (Redis, random values)',
  sizing: 'one',
  container: 'bench-kv',
  port: 6390,
  deployVars: (mib, o) => ({ workload: 'kv', name: o.container, kv_mib: mib, port: o.port, replace: true }),
  peer: false,
  front: false,
};

/**
 * The paper's own workload: MariaDB and WordPress, deployed once by `ferry deploy wordpress` and
 * moved back and forth as one group. Its ports are not deploy's defaults (3306, 8081) so a pair an
 * operator deployed on the lab is left alone; 8080 is the demo's. Its size check asks for 256 MiB:
 * the two dumps measured 83 and 77 to 88 MiB (workloads/wordpress/README.md), with room to grow.
 */
export const WORDPRESS: GroupWorkload = {
  moves: 'group',
  name: 'wordpress',
  title: "WordPress + MariaDB (the paper's workload)",
  sizing: 'one',
  group: 'bench-wp',
  port: 8083,
  dbPort: 3307,
  mib: 256,
  // Podman's peer runs Ferry's web rootfs only.
  peer: false,
  // The HAProxy row's load probe runs around one container's migration; a group move has none.
  front: false,
};

export const BENCH_WORKLOADS: readonly BenchWorkload[] = [WEB, KV, WORDPRESS];

/** The containers a workload leaves on the lab (pure): what a stopped run must remove. */
export function workloadContainers(w: BenchWorkload): string[] {
  if (w.moves === 'group') {
    const m = memberNames(w.group);
    return [m.db, m.web];
  }
  return [w.container, `${w.container}-front`];
}

/** `--workloads web,kv`: known names, in the order given, once each. */
export function parseWorkloads(text: string): BenchWorkload[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new FerryError(ErrorCode.UsageError, `--workloads needs at least one of ${BENCH_WORKLOADS.map((w) => w.name).join(', ')}`);
  const out: BenchWorkload[] = [];
  for (const n of names) {
    const w = BENCH_WORKLOADS.find((x) => x.name === n);
    if (!w) throw new FerryError(ErrorCode.UsageError, `unknown workload '${n}' in --workloads: choose from ${BENCH_WORKLOADS.map((x) => x.name).join(', ')}`);
    if (!out.includes(w)) out.push(w);
  }
  return out;
}
