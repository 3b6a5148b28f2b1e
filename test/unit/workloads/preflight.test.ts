import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import {
  assertDiskFor,
  assertDumpable,
  diskNeeded,
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
  type MemoryRollup,
  type ProcessInfo,
  type TreeSnapshot,
} from '../../../src/workloads/preflight.ts';
import { catchFerry } from '../catch-ferry.ts';

const MiB = 1024 * 1024;

// Texts as this machine's kernel (6.18) and iproute2 print them.
const smaps = `55b9349bb000-7ffcb1ec8000 ---p 00000000 00:00 0                          [rollup]
Rss:              132908 kB
Pss:               44728 kB
Pss_Dirty:         43964 kB
Pss_Anon:          43904 kB
Pss_File:            824 kB
Pss_Shmem:             0 kB
Shared_Clean:        140 kB
Shared_Dirty:     131768 kB
Private_Clean:       860 kB
Private_Dirty:       140 kB
Referenced:       132908 kB
Anonymous:        131908 kB
Swap:                 12 kB
SwapPss:               4 kB`;

describe('parsers', () => {
  it('smaps_rollup, in bytes', () => {
    expect(parseSmapsRollup(smaps)).toEqual({
      rss: 132908 * 1024,
      anonymous: 131908 * 1024,
      pssAnon: 43904 * 1024,
      pssShmem: 0,
      sharedClean: 140 * 1024,
      sharedDirty: 131768 * 1024,
      swap: 12 * 1024,
    });
  });

  it("find's NUL-separated fd listing, a file name with a newline and a tab included", () => {
    const text = ['/proc/12/fd\t0\tc\t/dev/null', '/proc/12/fd\t3\tU\tanon_inode:[io_uring]', '/proc/13/fd\t4\ts\tsocket:[467552]', '/proc/13/fd\t5\tf\t/tmp/a\nb\tc (deleted)', 'garbage', ''].join('\0');
    const got = parseFdListing(text);
    expect(got.get(12)).toEqual([{ fd: 0, type: 'c', target: '/dev/null' }, { fd: 3, type: 'U', target: 'anon_inode:[io_uring]' }]);
    expect(got.get(13)).toEqual([{ fd: 4, type: 's', target: 'socket:[467552]' }, { fd: 5, type: 'f', target: '/tmp/a\nb\tc (deleted)' }]);
  });

  it("grep -H's lines, by file (content with colons kept whole)", () => {
    const got = splitByFile('/proc/1/status:Name:\tsh\n/proc/1/status:PPid:\t0\n/sys/fs/cgroup/freezer/ferry/lab-1/web1/cgroup.procs:42\nnot a line\n');
    expect([...got]).toEqual([
      ['/proc/1/status', ['Name:\tsh', 'PPid:\t0']],
      ['/sys/fs/cgroup/freezer/ferry/lab-1/web1/cgroup.procs', ['42']],
    ]);
  });

  it('/proc/net/unix', () => {
    const lines = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '00000000b97e3936: 00000003 00000000 00000000 0001 03  1072',
      '000000005a4bcae2: 00000002 00000000 00010000 0001 01 20315 /run/app/a b.sock',
      '00000000aa4bcae2: 00000002 00000000 00000000 0002 01 20316 @abstract',
    ];
    expect(parseProcNetUnix(lines)).toEqual([
      { inode: 1072, type: 1, path: '' },
      { inode: 20315, type: 1, path: '/run/app/a b.sock' },
      { inode: 20316, type: 2, path: '@abstract' },
    ]);
  });

  it('/proc/net/tcp, udp and packet inodes', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1075 1 00000000c474de27 100 0 0 10 0',
      '   1: 0100007F:1F90 0100007F:D2F4 01 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000 20 4 30 10 -1',
    ];
    expect(parseProcNetInetInodes(tcp)).toEqual([1075, 0]);
    const packet = ['sk               RefCnt Type Proto  Iface R Rmem   User   Inode', 'ffff8a0c4a6f4000 3      3    0003   2     1 0      0      39845'];
    expect(parseProcNetPacketInodes(packet)).toEqual([39845]);
  });

  it('/proc/net/netlink', () => {
    const lines = [
      'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode',
      '00000000aae9a0de 0   0          00000000 0        0        0     2        0        4',
      '00000000f92e08b1 15  812        00000001 0        0        0     2        0        501',
    ];
    expect(parseProcNetNetlink(lines)).toEqual([{ portid: 0, groups: 0, inode: 4 }, { portid: 812, groups: 1, inode: 501 }]);
  });

  it('ss -x -a -n -p: peers and who holds them (names with spaces and parentheses too)', () => {
    const text = [
      'u_str ESTAB  0      0      * 124580 * 124579 users:(("esbuild",pid=8706,fd=1))',
      'u_str ESTAB  0      0      * 124579 * 124580 users:(("node (vitest 1",pid=25922,fd=1),("node",pid=25923,fd=7))',
      'u_str LISTEN 0      4096   /run/x.sock 20315 * 0 users:(("app",pid=5,fd=3))',
      'u_dgr UNCONN 0      0      @abstract name 20316 * 0',
      '',
    ].join('\n');
    const got = parseSsUnix(text);
    expect(got.get(124580)).toEqual({ peer: 124579, holders: [25922, 25923] });
    expect(got.get(124579)).toEqual({ peer: 124580, holders: [8706] });
    expect(got.get(20315)).toEqual({ peer: 0, holders: [] });
    expect(got.get(20316)).toEqual({ peer: 0, holders: [] });
  });

  it('mountinfo, with escaped spaces', () => {
    const lines = ['571 570 0:60 / / rw,relatime - overlay overlay rw,lowerdir=/x', '572 571 0:62 / /proc rw,nosuid - proc proc rw', '600 571 8:1 /srv/my\\040data /data rw - ext4 /dev/sda1 rw', 'junk'];
    expect(parseMountinfo(lines)).toEqual([
      { mountPoint: '/', fsType: 'overlay', source: 'overlay' },
      { mountPoint: '/proc', fsType: 'proc', source: 'proc' },
      { mountPoint: '/data', fsType: 'ext4', source: '/dev/sda1' },
    ]);
  });
});

const mem = (over: Partial<MemoryRollup> = {}): MemoryRollup => ({ rss: 0, anonymous: 0, pssAnon: 0, pssShmem: 0, sharedClean: 0, sharedDirty: 0, swap: 0, ...over });
const proc = (pid: number, over: Partial<ProcessInfo> = {}): ProcessInfo => ({ pid, ppid: 1, name: 'app', files: [], memory: mem(), ioUringMappings: 0, ...over });
const tree = (processes: ProcessInfo[], over: Partial<TreeSnapshot['sockets']> = {}, mounts: TreeSnapshot['mounts'] = []): TreeSnapshot => ({
  processes,
  sockets: { unix: [], inet: new Map(), netlink: [], unixPeers: new Map(), ...over },
  mounts,
});

describe('findDumpBlockers', () => {
  it('has nothing against what CRIU dumps', () => {
    const files = [
      { fd: 0, type: 'c', target: '/dev/null' },
      { fd: 1, type: 'c', target: '/dev/pts/0' },
      { fd: 2, type: 'p', target: 'pipe:[9]' },
      { fd: 3, type: 's', target: 'socket:[100]' },
      { fd: 4, type: 's', target: 'socket:[101]' },
      { fd: 5, type: 's', target: 'socket:[102]' },
      { fd: 6, type: 'U', target: 'anon_inode:[eventpoll]' },
      { fd: 7, type: 'U', target: 'anon_inode:inotify' },
      { fd: 8, type: 'f', target: '/var/log/app.log' },
      { fd: 9, type: 's', target: 'socket:[103]' },
      { fd: 10, type: 's', target: 'socket:[104]' },
    ];
    const t = tree([proc(10, { files }), proc(11, { files: [{ fd: 3, type: 's', target: 'socket:[105]' }] })], {
      unix: [{ inode: 100, type: 1, path: '' }, { inode: 103, type: 5, path: '' }, { inode: 105, type: 1, path: '/run/a.sock' }],
      inet: new Map([[101, 'tcp'], [102, 'udp6']]),
      netlink: [{ inode: 104, portid: 10, groups: 1 }],
      // 100 ↔ 105: both ends in the tree; 103: peer nobody holds (in flight).
      unixPeers: new Map([[100, { peer: 105, holders: [11] }], [105, { peer: 100, holders: [10] }], [103, { peer: 999, holders: [] }]]),
    });
    expect(findDumpBlockers(t)).toEqual([]);
  });

  it('refuses io_uring by fd or by mapping, naming the process', () => {
    const t = tree([proc(10, { name: 'mariadbd', files: [{ fd: 7, type: 'U', target: 'anon_inode:[io_uring]' }] }), proc(11, { ioUringMappings: 2 })]);
    const b = findDumpBlockers(t);
    expect(b.map((x) => x.code)).toEqual([ErrorCode.RefusedIoUring, ErrorCode.RefusedIoUring]);
    expect(b[0]!.reason).toMatch(/^process 10 \(mariadbd\) uses io_uring \(fd 7\).*innodb_use_native_aio=0/);
    expect(b[1]!.reason).toContain('mapped rings');
  });

  it('refuses other anonymous inodes CRIU does not know', () => {
    const b = findDumpBlockers(tree([proc(10, { files: [{ fd: 5, type: 'U', target: 'anon_inode:[perf_event]' }, { fd: 6, type: 'U', target: 'anon_inode:[userfaultfd]' }] })]));
    expect(b.map((x) => x.code)).toEqual([ErrorCode.RefusedFile, ErrorCode.RefusedFile]);
  });

  it('refuses devices beyond the default set', () => {
    const b = findDumpBlockers(tree([proc(10, { files: [{ fd: 5, type: 'c', target: '/dev/kmsg' }, { fd: 6, type: 'b', target: '/dev/sda' }, { fd: 7, type: 'c', target: '/dev/urandom' }] })]));
    expect(b.map((x) => [x.code, x.reason.includes('/dev/kmsg') || x.reason.includes('block device /dev/sda')])).toEqual([
      [ErrorCode.RefusedDevice, true],
      [ErrorCode.RefusedDevice, true],
    ]);
  });

  it('refuses a socket in no table, a unix connection leaving the tree, and a groups-only netlink socket', () => {
    const t = tree([proc(10, { files: [{ fd: 3, type: 's', target: 'socket:[200]' }, { fd: 4, type: 's', target: 'socket:[201]' }, { fd: 5, type: 's', target: 'socket:[202]' }] })], {
      unix: [{ inode: 201, type: 1, path: '' }],
      netlink: [{ inode: 202, portid: 0, groups: 4 }],
      unixPeers: new Map([[201, { peer: 301, holders: [77] }]]),
    });
    const b = findDumpBlockers(t);
    expect(b.map((x) => x.code)).toEqual([ErrorCode.RefusedSocket, ErrorCode.RefusedSocket, ErrorCode.RefusedSocket]);
    expect(b[0]!.reason).toContain('MPTCP');
    expect(b[1]!.reason).toContain('connected to process 77 outside the container');
    expect(b[2]!.reason).toContain('netlink');
  });

  it('does not guess about unix peers it could not read', () => {
    const t = tree([proc(10, { files: [{ fd: 3, type: 's', target: 'socket:[201]' }] })], { unix: [{ inode: 201, type: 1, path: '' }], unixPeers: null });
    expect(findDumpBlockers(t)).toEqual([]);
  });

  it('with the config, refuses mounts it does not explain unless CRIU makes them itself', () => {
    const mounts = [
      { mountPoint: '/', fsType: 'overlay', source: 'overlay' },
      { mountPoint: '/proc', fsType: 'proc', source: 'proc' },
      { mountPoint: '/data', fsType: 'ext4', source: '/dev/sda1' },
      { mountPoint: '/proc/kcore', fsType: 'tmpfs', source: 'tmpfs' },
      { mountPoint: '/proc/sys', fsType: 'proc', source: 'proc' },
      { mountPoint: '/run/x', fsType: 'tmpfs', source: 'tmpfs' },
      { mountPoint: '/srv', fsType: 'nfs4', source: 'nas:/srv' },
    ];
    const config = { mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/data', type: 'bind', source: 'data' }], linux: { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] } };
    const b = findDumpBlockers(tree([proc(10)], {}, mounts), config);
    expect(b).toEqual([{ code: ErrorCode.RefusedMount, reason: expect.stringContaining('nfs4 mount of nas:/srv at /srv') }]);
    expect(findDumpBlockers(tree([proc(10)], {}, mounts))).toEqual([]);
  });

  it('takes the device nodes runc bind-mounts in a user namespace for its own, and only there', () => {
    const mounts = [
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda1' },
      ...['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'].map((d) => ({ mountPoint: d, fsType: 'devtmpfs', source: 'devtmpfs' })),
    ];
    const userns = { mounts: [], linux: { namespaces: [{ type: 'pid' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }] } };
    expect(findDumpBlockers(tree([proc(10)], {}, mounts), userns)).toEqual([]);
    // Without a user namespace runc makes the nodes itself: bind mounts there came from elsewhere.
    const b = findDumpBlockers(tree([proc(10)], {}, mounts), { mounts: [], linux: { namespaces: [{ type: 'pid' }] } });
    expect(b).toHaveLength(6);
    expect(b[0]).toEqual({ code: ErrorCode.RefusedMount, reason: expect.stringContaining('devtmpfs mount of devtmpfs at /dev/null') });
    // A device beyond the default set is still refused, even in a user namespace.
    const kmsg = findDumpBlockers(tree([proc(10)], {}, [...mounts, { mountPoint: '/dev/kmsg', fsType: 'devtmpfs', source: 'devtmpfs' }]), userns);
    expect(kmsg).toEqual([{ code: ErrorCode.RefusedMount, reason: expect.stringContaining('at /dev/kmsg') }]);
  });

  it('assertDumpable throws the first with its code', () => {
    const b = findDumpBlockers(tree([proc(10, { files: [{ fd: 5, type: 'c', target: '/dev/kmsg' }, { fd: 7, type: 'U', target: 'anon_inode:[io_uring]' }] })]));
    const e = catchFerry(() => assertDumpable('db1', b), ErrorCode.RefusedIoUring);
    expect(e.message).toMatch(/^CRIU cannot checkpoint db1: process 10 .* \(and 1 more\)$/);
    expect(() => assertDumpable('db1', [])).not.toThrow();
  });
});

describe('estimateDump and the disk check', () => {
  // Issue 13's tree in smaps figures: a parent that filled a 128 MiB heap and two children sharing it unmodified.
  const shared = (pid: number) => proc(pid, { memory: mem({ rss: 129 * MiB, anonymous: 128 * MiB + 100 * 1024, pssAnon: (128 * MiB) / 3 + 100 * 1024, sharedDirty: 128 * MiB }) });
  const issue13 = [shared(1), shared(2), shared(3), proc(4, { memory: null })];

  it('counts copy-on-write pages once per process, as CRIU writes them', () => {
    const e = estimateDump(issue13);
    expect(e.processes).toBe(3);
    expect(e.privateBytes).toBe(3 * (128 * MiB + 100 * 1024));
    expect(e.copyOnWriteRepeatBytes).toBe(256 * MiB);
    expect(e.pageBytes).toBeGreaterThan(384 * MiB);
  });

  it('adds swap and counts shared memory once', () => {
    const e = estimateDump([proc(1, { memory: mem({ anonymous: 10 * MiB, swap: 5 * MiB, pssShmem: 8 * MiB }) }), proc(2, { memory: mem({ pssShmem: 8 * MiB }) })]);
    expect([e.privateBytes, e.sharedMemoryBytes, e.pageBytes]).toEqual([15 * MiB, 16 * MiB, 31 * MiB]);
  });

  it('needs the margin over the pages, the overhead and the bundle', () => {
    expect(diskNeeded({ pageBytes: 100 * MiB })).toBe(120 * MiB + 16 * MiB);
    expect(diskNeeded({ pageBytes: 100 * MiB }, { margin: 1, overheadBytes: 0, bundleBytes: 5 })).toBe(100 * MiB + 5);
  });

  it('refuses a host short of it, with the figures; the old memory × 1.2 would have let it through', () => {
    const e = estimateDump(issue13);
    const cgroupMemory = 129 * MiB; // what the cgroup charges: the heap once
    const avail = 300 * MiB;
    expect(avail).toBeGreaterThan(cgroupMemory * 1.2);
    const err = catchFerry(() => assertDiskFor('web1', 'lab-2', avail, e), ErrorCode.InsufficientDisk);
    expect(err.message).toMatch(/^lab-2 has 300 MiB free under \/var\/lib\/ferry, web1's checkpoint needs about 4\d\d MiB: 3 processes, 384 MiB of pages \(256 MiB of them copy-on-write/);
    expect(() => assertDiskFor('web1', 'lab-2', 1024 * MiB, e)).not.toThrow();
  });
});
