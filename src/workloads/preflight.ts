/**
 * Preflight that knows CRIU (issue 13, item 2): from what a host's /proc says about a container's
 * process tree, what CRIU cannot dump (each with its reason) and how large the dump will be.
 * Everything here is pure; src/workloads/preflight-read.ts reads the data over SSH.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import { DEFAULT_DEVICES, SELF_CONTAINED_MOUNT_TYPES, type OciSpec } from './oci.ts';
import type { Refusal } from './refusals.ts';

/** One open file of a process: /proc/<pid>/fd/<fd>, its link text and the type of what it points to (find's %Y). */
export interface OpenFile {
  fd: number;
  /** `f` file, `d` directory, `c`/`b` character/block device, `p` pipe, `s` socket, `N` missing, `?` other. */
  type: string;
  target: string;
}

/** The figures of /proc/<pid>/smaps_rollup that size a dump, in bytes. */
export interface MemoryRollup {
  rss: number;
  /** Pages not backed by a file, including private copies of file pages and pages shared copy-on-write with a parent or child. */
  anonymous: number;
  /** This process's share of its anonymous pages (a page shared by n processes counts 1/n). */
  pssAnon: number;
  /** This process's share of shared-memory pages (MAP_SHARED anonymous, SysV shm, memfd, tmpfs). */
  pssShmem: number;
  sharedClean: number;
  sharedDirty: number;
  swap: number;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
  files: OpenFile[];
  /** Null when the process ended while it was read. */
  memory: MemoryRollup | null;
  /** Mappings named anon_inode:[io_uring] (the rings stay mapped even after the fd is closed). */
  ioUringMappings: number;
}

export interface UnixSocket {
  inode: number;
  /** 1 stream, 2 dgram, 5 seqpacket (/proc/net/unix's Type). */
  type: number;
  path: string;
}

export interface NetlinkSocket {
  inode: number;
  portid: number;
  groups: number;
}

/** The socket tables of the container's network namespace (/proc/<pid>/net/...). */
export interface SocketTables {
  unix: UnixSocket[];
  /** inode → table it appears in (tcp, tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp, icmp6, packet). */
  inet: Map<number, string>;
  netlink: NetlinkSocket[];
  /** Unix socket inode → its peer's inode and the pids holding the peer (from `ss -x -a -n -p`); null when ss could not be read. */
  unixPeers: Map<number, { peer: number; holders: number[] }> | null;
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Everything the preflight reads about one container's process tree. */
export interface TreeSnapshot {
  processes: ProcessInfo[];
  sockets: SocketTables;
  /** The mount table of the container's first process (mount points inside the container). */
  mounts: MountEntry[];
}

// ---- parsers of /proc text ----

const KB = 1024;

/** /proc/<pid>/smaps_rollup → bytes. */
export function parseSmapsRollup(text: string): MemoryRollup {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * KB : 0;
  };
  return {
    rss: field('Rss'),
    anonymous: field('Anonymous'),
    pssAnon: field('Pss_Anon'),
    pssShmem: field('Pss_Shmem'),
    sharedClean: field('Shared_Clean'),
    sharedDirty: field('Shared_Dirty'),
    swap: field('Swap'),
  };
}

/** `find /proc/<pid>/fd … -printf '%h\t%f\t%Y\t%l\0'` → open files by pid (NUL-separated: a file name may hold a newline). */
export function parseFdListing(text: string): Map<number, OpenFile[]> {
  const out = new Map<number, OpenFile[]>();
  for (const rec of text.split('\0')) {
    const m = /^\/proc\/(\d+)\/fd\t(\d+)\t(\S)\t([\s\S]*)$/.exec(rec);
    if (!m) continue;
    const pid = Number(m[1]);
    const list = out.get(pid) ?? [];
    list.push({ fd: Number(m[2]), type: m[3]!, target: m[4]! });
    out.set(pid, list);
  }
  return out;
}

/** `grep -H -e '' FILE…` → lines by file. */
export function splitByFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0 || !line.startsWith('/')) continue;
    const file = line.slice(0, i);
    const list = out.get(file) ?? [];
    list.push(line.slice(i + 1));
    out.set(file, list);
  }
  return out;
}

/** /proc/net/unix rows. */
export function parseProcNetUnix(lines: readonly string[]): UnixSocket[] {
  const out: UnixSocket[] = [];
  for (const l of lines) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    const m = /^\s*[0-9a-f]+:\s+[0-9A-F]+\s+[0-9A-F]+\s+[0-9A-F]+\s+([0-9A-F]+)\s+[0-9A-F]+\s+(\d+)(?:\s(.*))?$/i.exec(l);
    if (m) out.push({ inode: Number(m[2]), type: parseInt(m[1]!, 16), path: (m[3] ?? '').trim() });
  }
  return out;
}

/** Inodes of /proc/net/{tcp,udp,raw,icmp}[6] rows (the 10th column). */
export function parseProcNetInetInodes(lines: readonly string[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const cols = l.trim().split(/\s+/);
    if (!/^\d+:$/.test(cols[0] ?? '') || cols.length < 10) continue;
    out.push(Number(cols[9]));
  }
  return out;
}

/** Inodes of /proc/net/packet rows (the last column). */
export function parseProcNetPacketInodes(lines: readonly string[]): number[] {
  return lines.filter((l) => /^[0-9a-f]{8,}\s/i.test(l.trim())).map((l) => Number(l.trim().split(/\s+/).at(-1)));
}

/** /proc/net/netlink rows: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode. */
export function parseProcNetNetlink(lines: readonly string[]): NetlinkSocket[] {
  const out: NetlinkSocket[] = [];
  for (const l of lines) {
    const c = l.trim().split(/\s+/);
    if (c.length < 10 || !/^[0-9a-f]{8,}$/i.test(c[0]!)) continue;
    out.push({ portid: Number(c[2]), groups: parseInt(c[3]!, 16), inode: Number(c[9]) });
  }
  return out;
}

/** `ss -H -x -a -n -p` → unix socket inode → peer inode and the pids that hold each socket's peer. */
export function parseSsUnix(text: string): Map<number, { peer: number; holders: number[] }> {
  const holdersOf = new Map<number, number[]>();
  const peers = new Map<number, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const users = /\s+users:\((.*)\)$/.exec(line);
    const rest = users ? line.slice(0, users.index) : line;
    // Netid State Recv-Q Send-Q LocalName LocalInode PeerName PeerInode (names may be '*')
    const m = /^\S+\s+\S+\s+\d+\s+\d+\s+(?:.*?\s)?(\d+)\s+\S.*?\s(\d+)$/.exec(rest);
    if (!m) continue;
    const inode = Number(m[1]);
    peers.set(inode, Number(m[2]));
    holdersOf.set(inode, users ? [...users[1]!.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1])) : []);
  }
  const out = new Map<number, { peer: number; holders: number[] }>();
  for (const [inode, peer] of peers) out.set(inode, { peer, holders: holdersOf.get(peer) ?? [] });
  return out;
}

/** /proc/<pid>/mountinfo → mount point, fs type, source (octal escapes such as \040 decoded). */
export function parseMountinfo(lines: readonly string[]): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const l of lines) {
    const sep = l.indexOf(' - ');
    if (sep < 0) continue;
    const pre = l.slice(0, sep).split(' ');
    const post = l.slice(sep + 3).split(' ');
    if (pre.length < 5 || post.length < 2) continue;
    out.push({ mountPoint: unescape(pre[4]!), fsType: post[0]!, source: unescape(post[1]!) });
  }
  return out;
}

// ---- what CRIU cannot dump ----

/** Anonymous inodes CRIU 4.2 dumps (criu/files.c); bpf-map needs a CRIU built with libbpf, which Ferry's is not. */
const CRIU_ANON_INODES = new Set(['[eventfd]', '[eventpoll]', 'inotify', '[fanotify]', '[signalfd]', '[timerfd]', '[pidfd]']);

/** Character devices a container may hold open: the default nodes and its own terminals. */
function allowedDevice(path: string): boolean {
  return DEFAULT_DEVICES.some((d) => d.path === path) || path === '/dev/console' || path === '/dev/ptmx' || /^\/dev\/pts\/(\d+|ptmx)$/.test(path);
}

/**
 * What in a running process tree CRIU 4.2 cannot dump, each with its reason: io_uring instances,
 * other anonymous inodes it does not know, devices beyond the default set, sockets of families it
 * cannot dump (absent from every socket table Ferry reads: MPTCP, SCTP, vsock, AF_ALG, ...), unix
 * connections to processes outside the tree, netlink sockets bound to groups without a port id,
 * and (when the container's config is given) mounts neither the config nor CRIU can recreate.
 */
export function findDumpBlockers(tree: TreeSnapshot, config?: Pick<OciSpec, 'mounts' | 'linux' | 'process'>): Refusal[] {
  const out: Refusal[] = [];
  const pids = new Set(tree.processes.map((p) => p.pid));
  const held = new Set<number>();
  for (const p of tree.processes) for (const f of p.files) {
    const ino = socketInode(f.target);
    if (ino !== null) held.add(ino);
  }
  const unix = new Map(tree.sockets.unix.map((s) => [s.inode, s]));
  const netlink = new Map(tree.sockets.netlink.map((s) => [s.inode, s]));

  for (const p of tree.processes) {
    const who = `process ${p.pid} (${p.name})`;
    const uring = p.files.filter((f) => f.target === 'anon_inode:[io_uring]');
    if (uring.length || p.ioUringMappings) {
      out.push({
        code: ErrorCode.RefusedIoUring,
        reason: `${who} uses io_uring (${uring.length ? `fd ${uring.map((f) => f.fd).join(', ')}` : 'mapped rings'}): CRIU cannot dump io_uring. Turn it off in the program (MariaDB: innodb_use_native_aio=0)`,
      });
    }
    for (const f of p.files) {
      const at = `${who} fd ${f.fd}`;
      if (f.target.startsWith('anon_inode:')) {
        const kind = f.target.slice('anon_inode:'.length);
        if (kind !== '[io_uring]' && !CRIU_ANON_INODES.has(kind)) {
          out.push({ code: ErrorCode.RefusedFile, reason: `${at} is ${f.target}, a kind of file CRIU cannot dump` });
        }
        continue;
      }
      if (f.type === 'c' || f.type === 'b') {
        if (f.type === 'b' || !allowedDevice(f.target)) {
          out.push({
            code: ErrorCode.RefusedDevice,
            reason: `${at} is the ${f.type === 'b' ? 'block' : 'character'} device ${f.target}, beyond the default set (/dev/null, zero, full, random, urandom, tty, pts): the target host may lack it and CRIU cannot move its state`,
          });
        }
        continue;
      }
      const ino = socketInode(f.target);
      if (ino === null) continue;
      const u = unix.get(ino);
      if (u) {
        if (![1, 2, 5].includes(u.type)) out.push({ code: ErrorCode.RefusedSocket, reason: `${at} is a unix socket of type ${u.type}: CRIU dumps only stream, datagram and seqpacket ones` });
        const peer = tree.sockets.unixPeers?.get(ino);
        if (peer && peer.peer !== 0 && !held.has(peer.peer) && peer.holders.length && !peer.holders.some((h) => pids.has(h))) {
          out.push({
            code: ErrorCode.RefusedSocket,
            reason: `${at} is a unix socket${u.path ? ` (${u.path})` : ''} connected to process ${peer.holders.join(', ')} outside the container: CRIU cannot dump half a connection (an abstract socket reached through the host's network namespace does this)`,
          });
        }
        continue;
      }
      const nl = netlink.get(ino);
      if (nl) {
        if (nl.groups !== 0 && nl.portid === 0) out.push({ code: ErrorCode.RefusedSocket, reason: `${at} is a netlink socket bound to groups but not to a port id: CRIU cannot dump it` });
        continue;
      }
      if (tree.sockets.inet.has(ino)) continue;
      out.push({
        code: ErrorCode.RefusedSocket,
        reason: `${at} is a socket (inode ${ino}) in none of the unix, TCP, UDP, raw, ICMP, packet or netlink tables: a family or protocol CRIU cannot dump (MPTCP, SCTP, vsock, AF_ALG, ...; Go programs: GODEBUG=multipathtcp=0), or a socket of another network namespace`,
      });
    }
  }
  if (config) out.push(...foreignMounts(tree.mounts, config));
  return out;
}

function socketInode(target: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(target);
  return m ? Number(m[1]) : null;
}

/** Mounts in the running container that its config does not explain and CRIU does not recreate by itself. */
function foreignMounts(mounts: readonly MountEntry[], config: Pick<OciSpec, 'mounts' | 'linux' | 'process'>): Refusal[] {
  const expected = new Set<string>(['/', ...(config.mounts ?? []).map((m) => m.destination), ...(config.linux?.maskedPaths ?? []), ...(config.linux?.readonlyPaths ?? [])]);
  if (config.process?.terminal) expected.add('/dev/console');
  // In a user namespace runc cannot mknod, so it bind-mounts the device nodes from the host, and
  // names them to CRIU as external mounts on checkpoint and restore (the WordPress containers are
  // dumped and restored so): they are explained by the config too.
  if (config.linux?.namespaces?.some((ns) => ns.type === 'user')) {
    for (const d of [...DEFAULT_DEVICES, ...(config.linux.devices ?? [])]) expected.add(d.path);
  }
  return mounts
    .filter((m) => !expected.has(m.mountPoint) && !SELF_CONTAINED_MOUNT_TYPES.includes(m.fsType))
    .map((m) => ({
      code: ErrorCode.RefusedMount,
      reason: `the ${m.fsType} mount of ${m.source} at ${m.mountPoint} is not in the container's config: a mount made from outside (or propagated from the host), which CRIU cannot recreate on the target`,
    }));
}

/** Throws the first blocker as a FerryError with its code; `details.refusals` lists them all. */
export function assertDumpable(name: string, blockers: readonly Refusal[]): void {
  if (blockers.length === 0) return;
  const more = blockers.length > 1 ? ` (and ${blockers.length - 1} more)` : '';
  throw new FerryError(blockers[0]!.code, `CRIU cannot checkpoint ${name}: ${blockers[0]!.reason}${more}`, { details: { refusals: blockers } });
}

// ---- how large the dump will be ----

export interface DumpEstimate {
  /** The bytes of memory pages CRIU will write for the whole tree. */
  pageBytes: number;
  /** Σ Anonymous + Swap over the processes: private pages, each counted in every process that maps it. */
  privateBytes: number;
  /** Σ Pss_Shmem: shared memory, counted once. */
  sharedMemoryBytes: number;
  /** Of privateBytes, what copy-on-write sharing adds over counting each page once (Σ Anonymous − Σ Pss_Anon). */
  copyOnWriteRepeatBytes: number;
  /** Σ Rss, for comparison (what `ps` shows added up). */
  rssBytes: number;
  processes: number;
}

/**
 * The size of CRIU's page images for a process tree, from each process's smaps_rollup.
 *
 * CRIU dumps, per process, every present or swapped page of its private mappings that is not the
 * zero page and not a still-unmodified page of a private file mapping (criu/mem.c:
 * should_dump_page), and it does so process by process: a page a parent shares copy-on-write
 * with its children is written once for each of them (there is no deduplication across
 * processes at dump time). Those pages are exactly smaps' `Anonymous` (anonymous pages, private
 * copies of file pages included, shared ones counted in full in each process) plus `Swap`.
 * Shared memory (MAP_SHARED anonymous, SysV shm, memfd, tmpfs) is dumped once per object
 * (criu/shmem.c), which Σ Pss_Shmem counts once. Clean file pages are not dumped at all, so Rss
 * over-counts them (a program's text and libraries), while the cgroup's memory usage counts a
 * shared page once and so under-counts a forked tree: issue 13's 128 MiB heap shared by a parent
 * and two children is 128 MiB to the cgroup and 3 × 128 = 384 MiB here, as CRIU wrote (387 MiB,
 * with the stacks and the rest).
 *
 *   pageBytes = Σ_p (Anonymous_p + Swap_p) + Σ_p Pss_Shmem_p
 */
export function estimateDump(processes: readonly ProcessInfo[]): DumpEstimate {
  let privateBytes = 0;
  let sharedMemoryBytes = 0;
  let pssAnon = 0;
  let anonymous = 0;
  let rssBytes = 0;
  let n = 0;
  for (const p of processes) {
    if (!p.memory) continue;
    n++;
    privateBytes += p.memory.anonymous + p.memory.swap;
    anonymous += p.memory.anonymous;
    pssAnon += p.memory.pssAnon;
    sharedMemoryBytes += p.memory.pssShmem;
    rssBytes += p.memory.rss;
  }
  return { pageBytes: privateBytes + sharedMemoryBytes, privateBytes, sharedMemoryBytes, copyOnWriteRepeatBytes: Math.max(0, anonymous - pssAnon), rssBytes, processes: n };
}

export interface DiskNeedOptions {
  /** Headroom over the page images. @defaultValue 1.2 (the engine's margin) */
  margin?: number;
  /** For the images beside the pages (core, files, mm, tmpfs contents). @defaultValue 16 MiB */
  overheadBytes?: number;
  /** The bundle, when it is copied to the same disk as well. @defaultValue 0 */
  bundleBytes?: number;
}

/** Bytes a host needs free for a checkpoint of this tree. Pure. */
export function diskNeeded(estimate: Pick<DumpEstimate, 'pageBytes'>, opts: DiskNeedOptions = {}): number {
  return Math.ceil(estimate.pageBytes * (opts.margin ?? 1.2)) + (opts.overheadBytes ?? 16 * 1024 * 1024) + (opts.bundleBytes ?? 0);
}

/** Refuses when `availableBytes` is short of {@link diskNeeded}; the message gives the figures. */
export function assertDiskFor(name: string, host: string, availableBytes: number, estimate: DumpEstimate, opts: DiskNeedOptions = {}): void {
  const need = diskNeeded(estimate, opts);
  if (availableBytes >= need) return;
  const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
  throw new FerryError(
    ErrorCode.InsufficientDisk,
    `${host} has ${mib(availableBytes)} free under /var/lib/ferry, ${name}'s checkpoint needs about ${mib(need)}: ${estimate.processes} processes, ${mib(estimate.pageBytes)} of pages (${mib(estimate.copyOnWriteRepeatBytes)} of them copy-on-write pages CRIU writes once per process). Free space there, or pick another target`,
    { details: { availableBytes, needBytes: need, estimate } },
  );
}
