/**
 * What one benchmark run does, decided before any host is touched (pure): sizes, workloads,
 * methods, runs, link profile, the peer, and the rows of each cell.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import { LAN, type LinkProfile } from '../infra/link/profile.ts';
import { METHOD_INFO, METHODS } from '../migrate/methods.ts';
import { KV, WEB, type BenchWorkload } from './workloads.ts';

export type PeerMode = 'required' | 'if-installed' | 'off';

export interface BenchPlan {
  /** Lab provider (`local`: namespace lab, `qemu`). @defaultValue the lab's current one, else 'local' (decided when the run starts) */
  provider?: string;
  /** CI's harness check: one size, two runs, the peer only if installed. */
  quick: boolean;
  /** Web sizes, MiB, ascending. @defaultValue [64, 256, 1024] (quick: [64]) */
  sizes: number[];
  /** The kv workload's one size, MiB. @defaultValue 64 */
  kvMib: number;
  /** Runs per row and cell. @defaultValue 5 (quick: 2) */
  runs: number;
  /** Web ballast rewritten per second, MiB. @defaultValue 1 */
  dirtyMiBPerS: number;
  workloads: BenchWorkload[];
  /** Methods asked for, in the registry's order (auto left out: it is one of these). */
  methods: string[];
  link: LinkProfile;
  /** The link was asked for (--link); else a two-cloud lab's own WAN is the link. */
  linkAsked: boolean;
  /** Podman's row: `required` fails early where Podman is missing. @defaultValue 'required' (quick: 'if-installed') */
  peer: PeerMode;
  /** The rows behind HAProxy with the hold server and the load probe. @defaultValue true */
  haproxy: boolean;
  /** Load-probe clients in the HAProxy rows. @defaultValue 10 */
  probeClients: number;
  /** iperf3 seconds per direction. @defaultValue 10 (quick: 3) */
  iperfSeconds: number;
}

/** What the CLI hands over; unset fields take the defaults (quick's where `quick`). */
export interface BenchPlanInput {
  provider?: string;
  quick?: boolean;
  sizes?: string;
  kvMib?: number;
  runs?: number;
  dirtyMiBPerS?: number;
  workloads?: BenchWorkload[];
  methods?: string[];
  link?: LinkProfile;
  noPodman?: boolean;
  noHaproxy?: boolean;
  probeClients?: number;
  iperfSeconds?: number;
}

/** `--sizes 64,256,1024` (MiB): whole numbers from 1 to 65536, ascending, each once. */
export function parseSizes(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new FerryError(ErrorCode.UsageError, '--sizes needs at least one size in MiB, e.g. --sizes 64,256,1024');
  const sizes = parts.map((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65536) throw new FerryError(ErrorCode.UsageError, `--sizes takes whole MiB from 1 to 65536, comma-separated (got '${p}')`);
    return n;
  });
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export function planBench(i: BenchPlanInput = {}): BenchPlan {
  const quick = i.quick ?? false;
  const methods = (i.methods ?? METHODS).filter((m) => m !== 'auto');
  return {
    ...(i.provider !== undefined ? { provider: i.provider } : {}),
    quick,
    sizes: i.sizes !== undefined ? parseSizes(i.sizes) : quick ? [64] : [64, 256, 1024],
    kvMib: i.kvMib ?? 64,
    runs: i.runs ?? (quick ? 2 : 5),
    dirtyMiBPerS: i.dirtyMiBPerS ?? 1,
    workloads: i.workloads ?? [WEB, KV],
    methods: METHODS.filter((m) => methods.includes(m)),
    link: i.link ?? LAN,
    linkAsked: i.link !== undefined,
    peer: i.noPodman ? 'off' : quick ? 'if-installed' : 'required',
    haproxy: !i.noHaproxy,
    probeClients: i.probeClients ?? 10,
    iperfSeconds: i.iperfSeconds ?? (quick ? 3 : 10),
  };
}

/** The sizes a workload runs at (a group's is its own: the one its size check asks for). */
export function workloadSizes(w: BenchWorkload, plan: BenchPlan): number[] {
  if (w.moves === 'group') return [w.mib];
  return w.sizing === 'sweep' ? plan.sizes : [plan.kvMib];
}

/** One row of a cell's table: a Ferry method (possibly behind HAProxy), or the peer. */
export interface RowSpec {
  /** `page-server`, `pc-ps-rsync+haproxy`, `podman`: keys results and chart series. */
  id: string;
  /** Table II's row name. */
  title: string;
  kind: 'ferry' | 'peer';
  /** The Ferry method (kind 'ferry'). */
  method?: string;
  /** Behind HAProxy with the hold server, the load probe running through the migration. */
  front?: boolean;
}

/**
 * The method behind HAProxy: the paper's "PC & PS + Rsync" row where the hosts track dirty
 * memory (the qemu lab), else the page server, so the client view is measured on every lab.
 */
export const FRONT_METHODS: readonly string[] = ['pc-ps-rsync', 'page-server'];

export const PEER_ROW: RowSpec = { id: 'podman', title: 'Podman (checkpoint --export, rsync, restore --import)', kind: 'peer' };

/** The rows of one cell, in Table II's order: the methods, the HAProxy row after its method, then the peer. */
export function cellRows(w: BenchWorkload, runnable: readonly string[], opts: { haproxy: boolean; peer: boolean }): RowSpec[] {
  const rows: RowSpec[] = [];
  const front = opts.haproxy && w.front ? FRONT_METHODS.find((m) => runnable.includes(m)) : undefined;
  for (const m of runnable) {
    rows.push({ id: m, title: METHOD_INFO[m]?.title ?? m, kind: 'ferry', method: m });
    if (m === front) rows.push({ id: `${m}+haproxy`, title: `${METHOD_INFO[m]?.title ?? m} + HAProxy`, kind: 'ferry', method: m, front: true });
  }
  if (opts.peer && w.peer) rows.push(PEER_ROW);
  return rows;
}

/** The rows a cell leaves out although the run has them, and why (pure). */
export function cellSkips(w: BenchWorkload, opts: { haproxy: boolean; peer: boolean }): { what: string; reason: string }[] {
  // Shaped as results.ts's Skipped, which imports this module.
  const out: { what: string; reason: string }[] = [];
  if (opts.peer && !w.peer) out.push({ what: 'the Podman row', reason: `the peer's image is Ferry's web rootfs; ${w.name} is not built for Podman` });
  if (opts.haproxy && !w.front) {
    out.push({
      what: 'the HAProxy row',
      reason: w.moves === 'group' ? 'its load probe runs around one container\'s migration; a group moves with none (as ferry migrate --group)' : `${w.name} is not an HTTP service`,
    });
  }
  return out;
}

/** A host's memory as the size check needs it. */
export interface HostMemory {
  host: string;
  /** MemAvailable of /proc/meminfo, KiB. */
  availableKiB: number;
  /** The filesystem type under /var/lib/ferry (`tmpfs` on the qemu lab's VMs: images then take memory too). */
  ferryFs: string;
}

/** MemAvailable (KiB) from /proc/meminfo, or null. */
export function parseMemAvailable(meminfo: string): number | null {
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo);
  return m ? Number(m[1]) : null;
}

/**
 * Why a container of `mib` MiB cannot be benchmarked on these hosts, or null. It needs its memory
 * on either host, and where /var/lib/ferry is in memory (tmpfs) the dump images and Podman's
 * archive as well: 1.5 times the size, 2.5 times on tmpfs.
 */
export function sizeBlocker(mib: number, hosts: readonly HostMemory[]): string | null {
  for (const h of hosts) {
    const factor = h.ferryFs === 'tmpfs' ? 2.5 : 1.5;
    const needKiB = mib * 1024 * factor;
    if (needKiB > h.availableKiB) {
      const onTmpfs = h.ferryFs === 'tmpfs' ? ' (its /var/lib/ferry is tmpfs, so dump images take memory too)' : '';
      return `${mib} MiB needs about ${Math.ceil(needKiB / 1024)} MiB free on ${h.host}, which has ${Math.floor(h.availableKiB / 1024)} MiB available${onTmpfs}: give the hosts more memory (FERRY_QEMU_MEMORY_MB for the qemu lab) or leave this size out of --sizes`;
    }
  }
  return null;
}
