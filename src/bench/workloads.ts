import { ErrorCode, FerryError } from '../errors.ts';

/** workload.yml's variables for one container. */
export type DeployVars = Record<string, string | number | boolean>;

/**
 * One workload the benchmark moves, as data: adding one (the paper's WordPress + MariaDB group,
 * once Ferry deploys and moves groups) is a record here plus, for a group, its deploy and move
 * in the runner.
 */
export interface BenchWorkload {
  /** Its name in `--workloads`. */
  name: string;
  /** For table headings. */
  title: string;
  /** `sweep`: every size of `--sizes`; `one`: a single size (`--kv-mib` for kv). */
  sizing: 'sweep' | 'one';
  /** The lab container the Ferry rows move. */
  container: string;
  /** Its service port on the host's address. */
  port: number;
  /** playbooks/workload.yml's variables for a container of `mib` MiB. */
  deployVars(mib: number, o: { dirtyMiBPerS: number; container: string; port: number }): DeployVars;
  /** Podman can move it too (its image is built from Ferry's web rootfs). */
  peer: boolean;
  /** An HTTP service: it gets the rows behind HAProxy, with the load probe. */
  front: boolean;
  /** Why the benchmark cannot run it yet; listed as skipped with this reason when asked for. */
  unavailable?: string;
}

export const WEB: BenchWorkload = {
  name: 'web',
  title: 'web (busybox httpd + incompressible ballast)',
  sizing: 'sweep',
  container: 'bench-web',
  port: 8090,
  deployVars: (mib, o) => ({ workload: 'web', name: o.container, ballast_mib: mib, dirty_mib_per_s: o.dirtyMiBPerS, port: o.port, replace: true }),
  peer: true,
  front: true,
};

export const KV: BenchWorkload = {
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
 * The paper's own workload. Its record is here so `--workloads wordpress` is understood and
 * reported. Ferry deploys and moves the pair as a group (`ferry deploy wordpress`, `ferry migrate
 * --group`), but the benchmark's cells move one container each: a group cell is not written yet.
 */
export const WORDPRESS: BenchWorkload = {
  name: 'wordpress',
  title: "WordPress + MariaDB (the paper's workload)",
  sizing: 'one',
  container: 'bench-wp',
  port: 8080,
  deployVars: () => {
    throw new FerryError(ErrorCode.Internal, 'the wordpress workload cannot be deployed by the benchmark yet');
  },
  peer: false,
  front: true,
  unavailable: "the benchmark's cells move one container; the WordPress + MariaDB pair moves as a group (ferry migrate --group), for which the benchmark has no cell yet",
};

export const BENCH_WORKLOADS: readonly BenchWorkload[] = [WEB, KV, WORDPRESS];

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
