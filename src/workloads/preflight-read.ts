import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { cgroupPath } from '../hosts/paths.ts';
import type { OciSpec } from './oci.ts';
import {
  estimateDump,
  findDumpBlockers,
  parseFdListing,
  parseMountinfo,
  parseProcNetInetInodes,
  parseProcNetNetlink,
  parseProcNetPacketInodes,
  parseProcNetUnix,
  parseSmapsRollup,
  parseSsUnix,
  splitByFile,
  type DumpEstimate,
  type ProcessInfo,
  type SocketTables,
  type TreeSnapshot,
} from './preflight.ts';
import type { Refusal } from './refusals.ts';

/** All the preflight needs of a host: run an argument array, get stdout, stderr and the exit code. */
export type ExecHost = Pick<RemoteHost, 'name' | 'exec'>;

const INET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'icmp', 'icmp6', 'packet'] as const;

/** The processes in a container's cgroup (cgroup v1 controllers first, as on these hosts, then v2). */
export async function containerPids(host: ExecHost, cgroupsPath: string): Promise<number[]> {
  const files = ['freezer', 'memory', 'pids'].map((c) => `/sys/fs/cgroup/${c}${cgroupsPath}/cgroup.procs`).concat(`/sys/fs/cgroup${cgroupsPath}/cgroup.procs`);
  // -s: the controllers this host lacks are not errors; -H names the file each pid came from.
  const r = await host.exec(['grep', '-s', '-H', '-e', '', ...files], { timeoutS: 30 });
  const byFile = splitByFile(r.stdout);
  for (const f of files) {
    const lines = byFile.get(f);
    if (lines?.length) return lines.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  }
  return [];
}

/**
 * Reads what the preflight needs about these processes from the host's /proc, in five commands
 * whatever the number of processes: their status, smaps_rollup and the first one's mount table and
 * socket tables (one grep), their open files (one find), io_uring mappings (one grep), and unix
 * socket peers (`ss` in the first process's network namespace). A process that ends meanwhile is
 * simply missing from the answers.
 */
export async function readProcessTree(host: ExecHost, pids: readonly number[]): Promise<TreeSnapshot> {
  if (pids.length === 0) return { processes: [], sockets: { unix: [], inet: new Map(), netlink: [], unixPeers: new Map() }, mounts: [] };
  const first = pids[0]!;
  const net = (t: string) => `/proc/${first}/net/${t}`;
  const perPid = pids.flatMap((p) => [`/proc/${p}/status`, `/proc/${p}/smaps_rollup`]);
  const shared = [`/proc/${first}/mountinfo`, net('unix'), net('netlink'), ...INET_TABLES.map(net)];
  const [files, fds, maps, ss] = await Promise.all([
    host.exec(['grep', '-s', '-H', '-e', '', ...perPid, ...shared], { timeoutS: 60 }),
    host.exec(['find', ...pids.map((p) => `/proc/${p}/fd`), '-mindepth', '1', '-maxdepth', '1', '-printf', '%h\\t%f\\t%Y\\t%l\\0'], { timeoutS: 60 }),
    host.exec(['grep', '-s', '-H', '-F', '-e', 'anon_inode:[io_uring]', ...pids.map((p) => `/proc/${p}/maps`)], { timeoutS: 60 }),
    host.exec(['nsenter', `--net=/proc/${first}/ns/net`, 'ss', '-H', '-x', '-a', '-n', '-p'], { timeoutS: 60 }),
  ]);
  const byFile = splitByFile(files.stdout);
  const fdsByPid = parseFdListing(fds.stdout);
  const mapsByFile = splitByFile(maps.stdout);

  const processes: ProcessInfo[] = [];
  for (const pid of pids) {
    const status = byFile.get(`/proc/${pid}/status`);
    if (!status) continue; // ended
    const field = (k: string) => status.find((l) => l.startsWith(`${k}:`))?.slice(k.length + 1).trim() ?? '';
    const smaps = byFile.get(`/proc/${pid}/smaps_rollup`);
    processes.push({
      pid,
      ppid: Number(field('PPid')),
      name: field('Name'),
      files: fdsByPid.get(pid) ?? [],
      memory: smaps ? parseSmapsRollup(smaps.join('\n')) : null,
      ioUringMappings: mapsByFile.get(`/proc/${pid}/maps`)?.length ?? 0,
    });
  }

  const inet = new Map<number, string>();
  for (const t of INET_TABLES) {
    const lines = byFile.get(net(t)) ?? [];
    for (const ino of t === 'packet' ? parseProcNetPacketInodes(lines) : parseProcNetInetInodes(lines)) if (ino > 0) inet.set(ino, t);
  }
  const sockets: SocketTables = {
    unix: parseProcNetUnix(byFile.get(net('unix')) ?? []),
    inet,
    netlink: parseProcNetNetlink(byFile.get(net('netlink')) ?? []),
    unixPeers: ss.code === 0 ? parseSsUnix(ss.stdout) : null,
  };
  return { processes, sockets, mounts: parseMountinfo(byFile.get(`/proc/${first}/mountinfo`) ?? []) };
}

export interface ContainerPreflight {
  /** Pids read from the container's cgroup. */
  pids: number[];
  tree: TreeSnapshot;
  /** What CRIU cannot dump, each with its code and reason (empty when it can). */
  blockers: Refusal[];
  estimate: DumpEstimate;
}

/**
 * The CRIU preflight of a Ferry container on its host: its processes from the cgroup
 * `/ferry/<host>/<name>` (or `cgroupsPath`), what CRIU cannot dump, and the size of the dump.
 * Pass the container's config.json to check its mounts too.
 */
export async function preflightContainer(host: ExecHost, name: string, opts: { config?: OciSpec; cgroupsPath?: string } = {}): Promise<ContainerPreflight> {
  const pids = await containerPids(host, opts.cgroupsPath ?? opts.config?.linux?.cgroupsPath ?? cgroupPath(host.name, name));
  // The container's init first: its namespaces are the container's.
  const tree = await readProcessTree(host, await initFirst(host, pids));
  return { pids, tree, blockers: findDumpBlockers(tree, opts.config), estimate: estimateDump(tree.processes) };
}

/** Orders pids so that the one whose parent is outside the set comes first. */
async function initFirst(host: ExecHost, pids: readonly number[]): Promise<number[]> {
  if (pids.length <= 1) return [...pids];
  const r = await host.exec(['grep', '-s', '-H', '-e', '^PPid:', ...pids.map((p) => `/proc/${p}/status`)], { timeoutS: 30 });
  const set = new Set(pids);
  const root = [...splitByFile(r.stdout)].find(([, lines]) => !set.has(Number(lines[0]?.slice(5).trim())))?.[0];
  const rootPid = root ? Number(/\/proc\/(\d+)\//.exec(root)?.[1]) : pids[0]!;
  return [rootPid, ...pids.filter((p) => p !== rootPid)];
}
