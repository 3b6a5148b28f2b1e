/**
 * `ferry bench --quick` in the namespace lab: the harness end to end (lab, link, iperf3, every
 * method the lab runs, the HAProxy row with the load probe, Podman where installed, JSON,
 * Markdown, charts), checked for shape, not speed.
 *
 * NOT YET RUN: written by the benchmark helper, who may not bring up the lab on the shared
 * machine. The lead runs it (`npx vitest run test/bench/bench-quick.test.ts`, as root, about
 * 5 to 10 minutes) before merging, and fixes what it finds.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../src/bench/results.ts';
import { isPng } from '../../src/charts/png-info.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { ferry, hostsFile, onHost } from '../helpers/lab.ts';

const why = labUnavailable();
skipNote(why, 'ferry bench --quick in the namespace lab');

const MINUTES = 60_000;

async function resultsIn(dir: string): Promise<{ base: string; results: BenchResults; files: string[] }> {
  const files = await readdir(dir);
  const json = files.find((f) => f.endsWith('.json'));
  expect(json, `no results JSON in ${dir}: ${files.join(', ')}`).toBeDefined();
  return { base: json!.slice(0, -'.json'.length), results: JSON.parse(await readFile(path.join(dir, json!), 'utf8')) as BenchResults, files };
}

/** What a run must not leave behind on a host. (pgrep patterns bracket a letter: unbracketed, they match the SSH command line carrying them.) */
async function leftovers(host: string): Promise<string[]> {
  const found: string[] = [];
  const runc = await onHost(host, ['runc', '--root', '/run/ferry/runc', 'list', '-q'], { allowFail: true });
  for (const name of runc.split('\n').map((s) => s.trim()).filter((s) => s.startsWith('bench-'))) found.push(`container ${name}`);
  const qdisc = await onHost(host, ['tc', 'qdisc', 'show', 'dev', 'eth0']);
  if (/htb|netem/.test(qdisc)) found.push(`shaping on eth0: ${qdisc.trim()}`);
  const fronts = await onHost(host, ['pgrep', '-af', '[h]aproxy.*bench-web-front'], { allowFail: true });
  if (fronts.trim()) found.push(`HAProxy: ${fronts.trim()}`);
  const iperf = await onHost(host, ['pgrep', '-af', '[i]perf3 -s'], { allowFail: true });
  if (iperf.trim()) found.push(`iperf3 server: ${iperf.trim()}`);
  const podman = await onHost(
    host,
    ['env', 'CONTAINERS_CONF=/var/lib/ferry/podman/containers.conf', 'podman', '--root', '/var/lib/ferry/podman/storage', '--runroot', '/run/ferry/podman', 'ps', '-aq'],
    { allowFail: true },
  );
  if (podman.trim()) found.push(`podman containers: ${podman.trim()}`);
  return found;
}

describe.skipIf(why !== null)('ferry bench --quick (namespace lab)', () => {
  let dir: string;
  let code: number;
  let stderr: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-quick-'));
    // web only: the kv workload is benched by the link-profile test below (CI's time).
    const r = await ferry(['bench', '--quick', '--provider', 'local', '--workloads', 'web', '--out', dir]);
    code = r.code;
    stderr = r.stderr;
  }, 40 * MINUTES);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finishes with every migration moved', () => {
    expect(code, stderr.split('\n').slice(-30).join('\n')).toBe(0);
  });

  it('writes the JSON, the Markdown and the charts side by side, named by date, lab and link', async () => {
    const { base, results, files } = await resultsIn(dir);
    expect(base).toBe(`${results.meta.date.slice(0, 10)}-namespace-lan`);
    expect(files).toEqual(expect.arrayContaining([`${base}.json`, `${base}.md`, `${base}-downtime.png`, `${base}-phases.png`, `${base}-response-time.png`]));
    for (const png of ['downtime', 'phases', 'response-time']) expect(isPng(await readFile(path.join(dir, `${base}-${png}.png`)))).toBe(true);
  });

  it('says where it ran: quick, namespace lab, lan, hosts with kernel and CRIU, the commit', async () => {
    const { results } = await resultsIn(dir);
    expect(results.schema).toBe(1);
    expect(results.incomplete).toBeUndefined();
    expect(results.meta).toMatchObject({ quick: true, lab: 'namespace', runs: 2, sizes: [64] });
    expect(results.meta.hosts).toHaveLength(2);
    for (const h of results.meta.hosts) expect(h.criu).toMatch(/^4\.|^[5-9]\./);
    expect(results.link.profile.name).toBe('lan');
    expect(results.link.shaping).toBe('none (the bare link)');
  });

  it('measured the link both ways, before and after, with iperf3', async () => {
    const { results } = await resultsIn(dir);
    const m = results.link.measurements;
    expect(m.map((x) => `${x.from}>${x.to}`)).toEqual(['lab-1>lab-2', 'lab-2>lab-1', 'lab-1>lab-2', 'lab-2>lab-1']);
    for (const x of m) expect(x.bitsPerSecond).toBeGreaterThan(0);
  });

  it('ran web at 64 MiB with every method the lab runs, two runs each, back and forth', async () => {
    const { results } = await resultsIn(dir);
    expect(results.cells.map((c) => `${c.workload}@${c.mib}`)).toEqual(['web@64']);
    const web = results.cells[0]!;
    const podman = results.meta.hosts.every((h) => h.podman);
    expect(web.rows.map((r) => r.id)).toEqual(['normal', 'page-server', 'page-server+haproxy', 'lazy', ...(podman ? ['podman'] : [])]);
    for (const c of results.cells) {
      for (const row of c.rows) {
        const runs = c.runs.filter((r) => r.row === row.id);
        expect(runs.map((r) => r.outcome), `${c.workload} ${row.id}`).toEqual(['migrated', 'migrated']);
        // Back and forth: the rows are interleaved within a run, so a row's first run may go either way.
        expect(runs.map((r) => `${r.from}>${r.to}`).sort(), `${c.workload} ${row.id}`).toEqual(['lab-1>lab-2', 'lab-2>lab-1']);
        for (const r of runs) {
          expect(r.times.downtime, `${row.id} downtime`).toBeGreaterThan(0);
          expect(r.bytes, `${row.id} bytes`).toBeGreaterThan(0);
        }
      }
    }
    // the pre-copy methods were left out, saying why
    expect(results.skipped.find((s) => s.what === 'method pc-ps-rsync')?.reason).toMatch(/soft-dirty/);
    if (!podman) expect(results.skipped.find((s) => s.what === 'Podman row')?.reason).toMatch(/not installed/);
  });

  it('has the clients view of the HAProxy row: requests, none failed with the hold server, a gap', async () => {
    const { results } = await resultsIn(dir);
    const runs = results.cells[0]!.runs.filter((r) => r.row === 'page-server+haproxy');
    for (const r of runs) {
      expect(r.client!.requests).toBeGreaterThan(0);
      expect(r.client!.failures).toBe(0);
      expect(r.client!.gapMs).toBeGreaterThan(0);
      expect(r.client!.clients).toBe(10);
    }
  });

  it("has Podman's own figures where it ran", async () => {
    const { results } = await resultsIn(dir);
    const runs = results.cells[0]!.runs.filter((r) => r.row === 'podman');
    for (const r of runs) {
      expect(r.peer!.checkpoint!.pagesWritten).toBeGreaterThan((64 * 256) / 2);
      expect(r.frozenMs).toBeGreaterThan(0);
      expect(r.times.checkpoint! + r.times.transfer! + r.times.restore!).toBeLessThanOrEqual(r.times.downtime!);
    }
  });

  it('writes Table II with the link-limit row and the ratios', async () => {
    const { base } = await resultsIn(dir);
    const md = await readFile(path.join(dir, `${base}.md`), 'utf8');
    expect(md).toContain('| Method | Pre-dump | Pre-copy | Pre-migration | Checkpoint | Transfer | Restore | Downtime | Total |');
    expect(md).toMatch(/\| Link limit \(iperf3: [\d.]+ (M|G)bit\/s\) \|/);
    expect(md).toContain('## Ratios');
    expect(md).toContain('--quick');
  });

  it('leaves nothing behind on either host', async () => {
    const file = await hostsFile();
    for (const h of file.hosts.slice(0, 2)) expect(await leftovers(h.name), h.name).toEqual([]);
  });
});

describe.skipIf(why !== null)('ferry bench link profiles (namespace lab)', () => {
  it('refuses a round trip the lab cannot emulate, before anything runs, saying why', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-wan-'));
    try {
      const r = await ferry(['bench', '--quick', '--provider', 'local', '--link', 'wan', '--out', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('[ferry_link_unsupported]');
      expect(r.stderr).toMatch(/netem/);
      expect(r.stderr).toContain('--link 0,200');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 10 * MINUTES);

  it('shapes the rate: iperf3 measures at most the profile, and the shaping is gone afterwards', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-rate-'));
    try {
      const r = await ferry(['bench', '--quick', '--provider', 'local', '--link', '0,100', '--workloads', 'kv', '--methods', 'page-server', '--runs', '1', '--no-podman', '--no-haproxy', '--out', dir]);
      expect(r.code, r.stderr.split('\n').slice(-20).join('\n')).toBe(0);
      const { base, results } = await resultsIn(dir);
      expect(base).toMatch(/-namespace-0ms-100mbit$/);
      expect(results.link.shaping).toMatch(/^HTB 100 Mbit\/s on eth0 of lab-1 and eth0 of lab-2/);
      // HTB holds the rate: a measurement above it means the shaping did not take.
      for (const m of results.link.measurements) expect(m.bitsPerSecond).toBeLessThan(110e6);
      const file = await hostsFile();
      for (const h of file.hosts.slice(0, 2)) expect(await onHost(h.name, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).not.toMatch(/htb/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20 * MINUTES);
});
