import { describe, expect, it } from 'vitest';
import { PEER_ROW, cellRows, cellSkips, parseMemAvailable, parseSizes, planBench, sizeBlocker, workloadSizes } from '../../../src/bench/plan.ts';
import { BENCH_WORKLOADS, KV, WEB, WORDPRESS, parseWorkloads, workloadContainers } from '../../../src/bench/workloads.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { LAN, WAN } from '../../../src/infra/link/profile.ts';
import { METHODS } from '../../../src/migrate/methods.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('planBench', () => {
  it('defaults to the full table: three sizes, five runs, web and kv, every method, lan, Podman required, HAProxy rows', () => {
    const p = planBench();
    expect(p).toMatchObject({ quick: false, sizes: [64, 256, 1024], kvMib: 64, runs: 5, dirtyMiBPerS: 1, link: LAN, peer: 'required', haproxy: true, probeClients: 10, iperfSeconds: 10 });
    expect(p.workloads).toEqual([WEB, KV]);
    expect(p.methods).toEqual(METHODS);
    expect(p.methods).not.toContain('auto');
    // the lab that is up, decided when the run starts, unless a provider is asked for
    expect(p.provider).toBeUndefined();
    expect(planBench({ provider: 'qemu' }).provider).toBe('qemu');
  });

  it('--quick: one size of 64 MiB, two runs, Podman only if installed, a short iperf3', () => {
    expect(planBench({ quick: true })).toMatchObject({ quick: true, sizes: [64], runs: 2, peer: 'if-installed', iperfSeconds: 3 });
  });

  it('lets explicit flags win over quick', () => {
    expect(planBench({ quick: true, sizes: '128', runs: 3 })).toMatchObject({ sizes: [128], runs: 3 });
    expect(planBench({ quick: true, noPodman: true }).peer).toBe('off');
  });

  it('keeps methods in the registry order and drops auto', () => {
    expect(planBench({ methods: ['lazy', 'auto', 'normal'] }).methods).toEqual(['normal', 'lazy']);
    expect(planBench({ link: WAN, noHaproxy: true })).toMatchObject({ link: WAN, haproxy: false });
  });
});

describe('parseSizes', () => {
  it('reads MiB, sorted, each once', () => {
    expect(parseSizes('1024, 64,256,64')).toEqual([64, 256, 1024]);
  });

  it('refuses what is not a whole size', () => {
    for (const bad of ['', ',', '0', '1.5', '64MiB', '-64', '99999']) catchFerry(() => parseSizes(bad), ErrorCode.UsageError);
  });
});

describe('workloads', () => {
  it('reads --workloads in the given order, once each', () => {
    expect(parseWorkloads('kv,web,kv')).toEqual([KV, WEB]);
  });

  it('reads --workloads wordpress as the WordPress pair, moved as a group', () => {
    expect(parseWorkloads('wordpress')).toEqual([WORDPRESS]);
    expect(parseWorkloads('web,wordpress').map((w) => w.name)).toEqual(['web', 'wordpress']);
    expect(WORDPRESS).toMatchObject({ moves: 'group', group: 'bench-wp', sizing: 'one', peer: false, front: false });
    expect(workloadContainers(WORDPRESS)).toEqual(['bench-wp-db', 'bench-wp-web']);
    expect(workloadContainers(WEB)).toEqual(['bench-web', 'bench-web-front']);
    expect(BENCH_WORKLOADS.map((w) => w.name)).toEqual(['web', 'kv', 'wordpress']);
  });

  it("keeps WordPress clear of the demo's and deploy's default ports", () => {
    expect([WORDPRESS.port, WORDPRESS.dbPort]).not.toContain(8080);
    expect([WORDPRESS.port, WORDPRESS.dbPort]).not.toContain(8081);
    expect([WORDPRESS.port, WORDPRESS.dbPort]).not.toContain(3306);
    expect(BENCH_WORKLOADS.filter((w) => w !== WORDPRESS).map((w) => w.port)).not.toContain(WORDPRESS.port);
  });

  it('leaves WordPress out of the default run and --quick (CI)', () => {
    expect(planBench().workloads).toEqual([WEB, KV]);
    expect(planBench({ quick: true }).workloads).not.toContain(WORDPRESS);
  });

  it('refuses unknown workloads, listing the known ones', () => {
    expect(catchFerry(() => parseWorkloads('web,db'), ErrorCode.UsageError).message).toContain('web, kv, wordpress');
    catchFerry(() => parseWorkloads(' , '), ErrorCode.UsageError);
  });

  it('sweeps sizes for web, one size for kv', () => {
    const p = planBench({ sizes: '64,128', kvMib: 32 });
    expect(workloadSizes(WEB, p)).toEqual([64, 128]);
    expect(workloadSizes(KV, p)).toEqual([32]);
    // The pair's size is not a knob: one cell, at the size its check asks for.
    expect(workloadSizes(WORDPRESS, p)).toEqual([WORDPRESS.mib]);
  });

  it("deploys each workload with workload.yml's variables", () => {
    expect(WEB.deployVars(256, { dirtyMiBPerS: 1, container: 'bench-web', port: 8090 })).toEqual({ workload: 'web', name: 'bench-web', ballast_mib: 256, dirty_mib_per_s: 1, port: 8090, replace: true });
    expect(KV.deployVars(64, { dirtyMiBPerS: 1, container: 'bench-kv', port: 6390 })).toEqual({ workload: 'kv', name: 'bench-kv', kv_mib: 64, port: 6390, replace: true });
  });
});

describe('cellRows', () => {
  it('on the namespace lab: the methods it runs, page-server behind HAProxy after page-server, then Podman', () => {
    expect(cellRows(WEB, ['normal', 'page-server', 'lazy'], { haproxy: true, peer: true }).map((r) => r.id)).toEqual(['normal', 'page-server', 'page-server+haproxy', 'lazy', 'podman']);
  });

  it("on the qemu lab: the paper's PC & PS + Rsync + HAProxy row", () => {
    const rows = cellRows(WEB, ['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync', 'lazy', 'pc-lazy'], { haproxy: true, peer: true });
    expect(rows.map((r) => r.id)).toEqual(['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync', 'pc-ps-rsync+haproxy', 'lazy', 'pc-lazy', 'podman']);
    expect(rows.find((r) => r.front)).toEqual({ id: 'pc-ps-rsync+haproxy', title: 'PC & PS + Rsync + HAProxy', kind: 'ferry', method: 'pc-ps-rsync', front: true });
  });

  it('leaves HAProxy and Podman rows out where the workload or the options say so', () => {
    expect(cellRows(KV, ['normal', 'page-server'], { haproxy: true, peer: true }).map((r) => r.id)).toEqual(['normal', 'page-server']);
    expect(cellRows(WEB, ['normal'], { haproxy: true, peer: false }).map((r) => r.id)).toEqual(['normal']);
    expect(cellRows(WEB, ['page-server'], { haproxy: false, peer: true })).toEqual([{ id: 'page-server', title: 'Page Server', kind: 'ferry', method: 'page-server' }, PEER_ROW]);
  });

  it('gives the WordPress group a row per method and neither HAProxy nor Podman, saying why', () => {
    expect(cellRows(WORDPRESS, ['normal', 'page-server', 'lazy'], { haproxy: true, peer: true }).map((r) => r.id)).toEqual(['normal', 'page-server', 'lazy']);
    const skips = cellSkips(WORDPRESS, { haproxy: true, peer: true });
    expect(skips.map((s) => s.what)).toEqual(['the Podman row', 'the HAProxy row']);
    expect(skips[1]!.reason).toMatch(/group/);
    expect(cellSkips(KV, { haproxy: true, peer: false })).toEqual([{ what: 'the HAProxy row', reason: 'kv is not an HTTP service' }]);
    expect(cellSkips(WEB, { haproxy: true, peer: true })).toEqual([]);
  });
});

describe('memory', () => {
  it('reads MemAvailable', () => {
    expect(parseMemAvailable('MemTotal:       24000000 kB\nMemFree: 1 kB\nMemAvailable:   20000000 kB\n')).toBe(20000000);
    expect(parseMemAvailable('MemTotal: 1 kB')).toBeNull();
  });

  it('refuses a size the hosts cannot hold, saying how to fix it', () => {
    const vm = { host: 'lab-2', availableKiB: 1400 * 1024, ferryFs: 'tmpfs' };
    expect(sizeBlocker(256, [vm])).toBeNull();
    const why = sizeBlocker(1024, [{ host: 'lab-1', availableKiB: 20e6, ferryFs: 'ext4' }, vm])!;
    expect(why).toContain('lab-2');
    expect(why).toContain('tmpfs');
    expect(why).toContain('FERRY_QEMU_MEMORY_MB');
    expect(sizeBlocker(1024, [{ host: 'lab-1', availableKiB: 1600 * 1024, ferryFs: 'ext4' }])).toBeNull();
  });
});
