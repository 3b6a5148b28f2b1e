/**
 * The benchmark as a use case: on the lab, with the link shaped as asked and measured by iperf3,
 * every workload at every size, every method the hosts support (and the HAProxy row with the
 * load probe), then Podman moving the same workload; N runs each, back and forth. Writes the raw
 * results (JSON), Table II (Markdown) and the charts (PNG) side by side.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { headlines, summarizeCell, type CellSummary, type Headline } from '../bench/aggregate.ts';
import { writeCharts, type ChartFiles } from '../bench/charts.ts';
import { clientView } from '../bench/client-view.ts';
import { BENCH_FRONT_PORT, frontOn, resetFront, stopFront } from '../bench/front.ts';
import { hostInfo, hostMemory } from '../bench/host-info.ts';
import { measureLink } from '../bench/iperf.ts';
import { renderResultsMarkdown } from '../bench/markdown.ts';
import { lazyGroupBlocker, runFromGroupReport, type LazyHostFacts } from '../bench/group.ts';
import { PEER_ROW, cellRows, cellSkips, sizeBlocker, workloadSizes, type BenchPlan, type HostMemory, type RowSpec } from '../bench/plan.ts';
import { PodmanPeer } from '../bench/podman.ts';
import { failedRun, labName, labTitle, resultsBaseName, runFromPeer, runFromReport, uniqueBaseName, type BenchCell, type BenchResults, type Skipped } from '../bench/results.ts';
import { workloadContainers, type BenchWorkload, type ContainerWorkload, type GroupWorkload } from '../bench/workloads.ts';
import { REPO_ROOT, type FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { listContainers } from '../hosts/containers.ts';
import { probeHost, type HostCapabilities } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { Lab } from '../infra/lab.ts';
import { HtbShaper } from '../infra/link/HtbShaper.ts';
import { LabWan } from '../infra/link/LabWan.ts';
import type { LinkShaper } from '../infra/link/LinkShaper.ts';
import type { Say } from '../infra/providers/provider.ts';
import { removeContainer } from '../migrate/debris.ts';
import { METHOD_INFO, methodBlocker } from '../migrate/methods.ts';
import { newMigrationId } from '../migrate/request.ts';
import { fromCsv } from '../probe/samples.ts';
import { runLocal } from '../util/run-local.ts';
import { deployWordpressUseCase } from './deploy.ts';
import { runGroupMigration } from './group.ts';
import { ensureLab, deployWorkload, hostsRunning } from './lab.ts';
import { runMigration } from './migrate.ts';
import { removeContainersUseCase } from './remove.ts';

/** Where results go unless told otherwise: committed with the repository, beside the README that shows them. */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

export interface BenchDeps {
  config: FerryConfig;
  say: Say;
  /** Stops after the current migration; what ran is still written (marked incomplete). */
  signal?: AbortSignal;
  /** @defaultValue RESULTS_DIR */
  outDir?: string;
  /**
   * The link's shaper for these hosts.
   * @defaultValue HTB on the hosts themselves (the namespace and qemu labs)
   */
  shaper?: (hosts: [RemoteHost, RemoteHost]) => LinkShaper;
}

export interface BenchOutput {
  results: BenchResults;
  cells: CellSummary[];
  headlines: Headline[];
  files: { json: string; markdown: string; charts: ChartFiles };
}

/** Ports of the benchmark's containers: the plain ones at the workload's port, the fronted one next, Podman's after. */
const FRONTED_PORT_OFFSET = 1;
const PEER_PORT_OFFSET = 2;

const interrupted = () => new FerryError(ErrorCode.Cancelled, 'interrupted: the migrations that ran are all here');
const isInterrupt = (e: unknown) => e instanceof FerryError && e.code === ErrorCode.Cancelled;

/** One benchmark run on two hosts of the lab. */
class BenchSession {
  private readonly results: BenchResults;
  private peer?: PodmanPeer;
  private peerReady = false;
  private hop = 0;

  constructor(
    private readonly plan: BenchPlan,
    private readonly deps: BenchDeps,
    private readonly file: HostsFile,
    private readonly a: RemoteHost,
    private readonly b: RemoteHost,
    private readonly runnable: string[],
    private readonly withPeer: boolean,
    results: BenchResults,
  ) {
    this.results = results;
  }

  private say(line: string): void {
    this.deps.say(line);
  }

  private checkAbort(): void {
    if (this.deps.signal?.aborted) throw interrupted();
  }

  private host(name: string): RemoteHost {
    return name === this.a.name ? this.a : this.b;
  }

  private other(name: string): RemoteHost {
    return name === this.a.name ? this.b : this.a;
  }

  /** Removes `name` wherever it exists, so a cell starts clean after an interrupted run. */
  private async clear(name: string): Promise<void> {
    for (const c of await hostsRunning(this.deps.config, this.file, name)) await removeContainer(this.host(c.host), name);
  }

  /** Where the container runs now (after a migration that threw), or a reason to give up the cell. */
  private async locate(name: string): Promise<string> {
    const running = (await hostsRunning(this.deps.config, this.file, name)).filter((c) => c.status === 'running');
    if (running.length !== 1) {
      throw new FerryError(ErrorCode.MigrationFailed, `after a failed migration ${name} runs on ${running.length ? running.map((c) => c.host).join(' and ') : 'no host'}: the cell stops here`);
    }
    return running[0]!.host;
  }

  /** N runs of each row, back and forth, the rows interleaved within each run as the paper's runs were. */
  private async migrateRows(cell: BenchCell, rows: RowSpec[], name: string, probe?: { clients: number }): Promise<void> {
    let where = this.a.name;
    for (let run = 1; run <= this.plan.runs; run++) {
      for (const row of rows) {
        this.checkAbort();
        const to = this.other(where).name;
        this.say(`${cell.title}: run ${run}/${this.plan.runs}, ${row.title}, ${where} → ${to}`);
        try {
          if (row.front) await resetFront(this.host(where), name);
          const r = await runMigration(
            { id: newMigrationId(), container: name, from: where, to, method: row.method!, requestedBy: 'bench' },
            { config: this.deps.config, hosts: this.file, provision: false, signal: this.deps.signal, ...(probe ? { probe: { clients: probe.clients, port: BENCH_FRONT_PORT } } : {}) },
          );
          const client = r.probe ? clientView(fromCsv(await readFile(r.probe.csv, 'utf8')), probe!.clients) : undefined;
          cell.runs.push(runFromReport(row, run, r, METHOD_INFO[row.method!]?.lazy ?? false, client));
          if (r.outcome !== 'migrated') this.say(`  rolled back: ${r.error ?? 'no reason given'}`);
          where = r.runsOn;
        } catch (e) {
          this.say(`  failed: ${errorMessage(e)}`);
          cell.runs.push(failedRun(row, run, where, to, errorMessage(e)));
          if (this.deps.signal?.aborted) throw interrupted();
          where = await this.locate(name);
        }
      }
    }
    await removeContainer(this.host(where), name);
  }

  private async ferryRows(w: ContainerWorkload, mib: number, cell: BenchCell): Promise<void> {
    const rows = cell.rows.filter((r) => r.kind === 'ferry' && !r.front);
    if (rows.length === 0) return;
    await this.clear(w.container);
    this.say(`${cell.title}: deploying ${w.container} on ${this.a.name}`);
    await deployWorkload(this.file, this.a.name, w.deployVars(mib, { dirtyMiBPerS: this.plan.dirtyMiBPerS, container: w.container, port: w.port }));
    await this.migrateRows(cell, rows, w.container);
  }

  /** The rows behind HAProxy: their own container (a front makes every migration of its container go through it). */
  private async frontRows(w: ContainerWorkload, mib: number, cell: BenchCell): Promise<void> {
    const rows = cell.rows.filter((r) => r.front);
    if (rows.length === 0) return;
    const name = `${w.container}-front`;
    const port = w.port + FRONTED_PORT_OFFSET;
    await this.clear(name);
    this.say(`${cell.title}: deploying ${name} behind HAProxy (port ${BENCH_FRONT_PORT}) on ${this.a.name} and ${this.b.name}`);
    await deployWorkload(this.file, this.a.name, w.deployVars(mib, { dirtyMiBPerS: this.plan.dirtyMiBPerS, container: name, port }));
    try {
      await frontOn(this.file, [this.a.name, this.b.name], name, port);
      await this.migrateRows(cell, rows, name, { clients: this.plan.probeClients });
    } finally {
      for (const h of [this.a, this.b]) await stopFront(h, name).catch((e: unknown) => this.say(`could not stop HAProxy for ${name} on ${h.name}: ${errorMessage(e)}`));
    }
  }

  private async peerRow(w: BenchWorkload, mib: number, cell: BenchCell): Promise<void> {
    if (!cell.rows.includes(PEER_ROW)) return;
    this.peer ??= new PodmanPeer(this.a, this.b, { healthTimeoutS: this.deps.config.healthTimeoutS * 2, commandTimeoutS: this.deps.config.commandTimeoutS, say: (l) => this.say(l) });
    if (!this.peerReady) {
      await this.peer.prepare();
      this.peerReady = true;
    }
    const port = w.port + PEER_PORT_OFFSET;
    let name = `ferry-podman-${this.hop++}`;
    let where = this.a;
    this.say(`${cell.title}: starting the Podman container ${name} on ${where.name}`);
    await this.peer.start(where, { name, port, mib, dirtyMiBPerS: this.plan.dirtyMiBPerS });
    try {
      for (let run = 1; run <= this.plan.runs; run++) {
        this.checkAbort();
        const to = this.other(where.name);
        const next = `ferry-podman-${this.hop++}`;
        this.say(`${cell.title}: run ${run}/${this.plan.runs}, Podman, ${where.name} → ${to.name}`);
        const m = await this.peer.move(where, to, name, next, port);
        cell.runs.push(runFromPeer(PEER_ROW, run, m));
        if (m.outcome === 'migrated') where = to;
        else this.say(`  rolled back: ${m.error}`);
        name = m.name;
      }
    } finally {
      await this.peer.remove(where, name).catch((e: unknown) => this.say(`could not remove the Podman container ${name} on ${where.name}: ${errorMessage(e)}`));
    }
  }

  /** Removes a group's members wherever they are, with the remove use case (`ferry rm`), saying what it did not. */
  private async removeGroup(w: GroupWorkload): Promise<void> {
    const r = await removeContainersUseCase({ names: workloadContainers(w) }, { config: this.deps.config, hosts: this.file, say: (l) => this.say(l) });
    for (const warning of r.warnings) this.say(warning);
  }

  /** Where every member of the group runs now (after a group move that threw), or a reason to give up the cell. */
  private async locateGroup(w: GroupWorkload): Promise<string> {
    const where = await Promise.all(workloadContainers(w).map(async (n) => ({ n, on: (await hostsRunning(this.deps.config, this.file, n)).filter((c) => c.status === 'running').map((c) => c.host) })));
    const hosts = [...new Set(where.flatMap((x) => x.on))];
    if (hosts.length !== 1 || where.some((x) => x.on.length !== 1)) {
      throw new FerryError(ErrorCode.MigrationFailed, `after a failed group move ${where.map((x) => `${x.n} runs on ${x.on.join(' and ') || 'no host'}`).join(', ')}: the cell stops here`);
    }
    return hosts[0]!;
  }

  /** The kernel settings a lazy move of the pair needs, read from both hosts (see lazyGroupBlocker). */
  private async lazyFacts(): Promise<LazyHostFacts[]> {
    const read = async (h: RemoteHost, file: string) => {
      const r = await h.exec(['cat', file], { idempotent: true });
      return r.code === 0 ? r.stdout.trim() : null;
    };
    return Promise.all(
      [this.a, this.b].map(async (h) => ({
        host: h.name,
        unprivilegedUserfaultfd: await read(h, '/proc/sys/vm/unprivileged_userfaultfd'),
        pipeUserPagesSoft: await read(h, '/proc/sys/fs/pipe-user-pages-soft'),
        bootId: await read(h, '/proc/sys/kernel/random/boot_id'),
      })),
    );
  }

  /**
   * The group cell: the pair deployed once on the first host by the deploy use case, then each row
   * moves the whole group back and forth with the group use case (one freeze window, restored in
   * order, all rolled back if one fails), and the pair is removed at the end by the remove use case.
   */
  private async groupCell(w: GroupWorkload, cell: BenchCell): Promise<void> {
    const lazyBlocked = cell.rows.some((r) => METHOD_INFO[r.method!]?.lazy) ? lazyGroupBlocker(await this.lazyFacts()) : null;
    if (lazyBlocked) {
      const lazy = cell.rows.filter((r) => METHOD_INFO[r.method!]?.lazy);
      cell.rows = cell.rows.filter((r) => !lazy.includes(r));
      cell.skipped.push({ what: `method ${lazy.map((r) => r.id).join(', ')}`, reason: lazyBlocked });
      this.say(`${cell.title}: leaving out ${lazy.map((r) => r.id).join(', ')}: ${lazyBlocked}`);
    }
    if (cell.rows.length === 0) return;
    // What an interrupted run left would make the deploy refuse the names.
    await this.removeGroup(w);
    this.say(`${cell.title}: deploying the group ${w.group} on ${this.a.name} (ferry deploy wordpress; the first build of its root filesystems takes minutes)`);
    try {
      // A deploy that fails halfway leaves what started: the finally below takes it away too.
      await deployWordpressUseCase({ name: w.group, host: this.a.name, webPort: w.port, dbPort: w.dbPort }, { config: this.deps.config, hosts: this.file, say: (l) => this.say(`  ${l}`), cancelSignal: this.deps.signal });
      const memory = await this.groupMemory(w);
      if (memory !== null) cell.mib = memory;
      let where = this.a.name;
      for (let run = 1; run <= this.plan.runs; run++) {
        for (const row of cell.rows) {
          this.checkAbort();
          const to = this.other(where).name;
          this.say(`${cell.title}: run ${run}/${this.plan.runs}, ${row.title}, group ${w.group} ${where} → ${to}`);
          try {
            const g = await runGroupMigration(w.group, where, to, { config: this.deps.config, hosts: this.file, method: row.method!, signal: this.deps.signal });
            cell.runs.push(runFromGroupReport(row, run, g, METHOD_INFO[row.method!]?.lazy ?? false));
            if (g.outcome !== 'migrated') this.say(`  rolled back: ${g.error ?? 'no reason given'}`);
            where = g.outcome === 'migrated' ? g.to : g.from;
          } catch (e) {
            this.say(`  failed: ${errorMessage(e)}`);
            cell.runs.push(failedRun(row, run, where, to, errorMessage(e)));
            if (this.deps.signal?.aborted) throw interrupted();
            where = await this.locateGroup(w);
          }
        }
      }
    } finally {
      // The lab as it was found; an interrupted or failed cell included (close() tries again).
      await this.removeGroup(w).catch((e: unknown) => this.say(`could not remove the group ${w.group}: ${errorMessage(e)}`));
    }
  }

  /** The members' memory as their cgroups charge it, MiB, on the first host; null when unread. */
  private async groupMemory(w: GroupWorkload): Promise<number | null> {
    const names = workloadContainers(w);
    const listed = (await listContainers(this.a).catch(() => [])).filter((c) => names.includes(c.name));
    if (listed.length !== names.length || listed.some((c) => c.memoryBytes === null)) return null;
    return Math.round(listed.reduce((s, c) => s + c.memoryBytes!, 0) / 1048576);
  }

  async cell(w: BenchWorkload, mib: number): Promise<BenchCell> {
    const title = w.moves === 'group' ? w.title : w.sizing === 'sweep' ? `${w.name}, ${mib} MiB (${this.plan.dirtyMiBPerS} MiB/s dirtied)` : `${w.name}, ${mib} MiB`;
    const opts = { haproxy: this.plan.haproxy, peer: this.withPeer };
    const cell: BenchCell = { workload: w.name, title, mib, rows: cellRows(w, this.runnable, opts), runs: [], skipped: cellSkips(w, opts) };
    if (w.moves === 'group') cell.group = { name: w.group, members: workloadContainers(w) };
    this.results.cells.push(cell);
    if (w.moves === 'group') {
      await this.groupCell(w, cell);
      return cell;
    }
    await this.ferryRows(w, mib, cell);
    await this.frontRows(w, mib, cell);
    await this.peerRow(w, mib, cell);
    return cell;
  }

  async measure(): Promise<void> {
    for (const [from, to] of [
      [this.a, this.b],
      [this.b, this.a],
    ] as const) {
      this.say(`iperf3 ${from.name} → ${to.name} (${this.plan.iperfSeconds} s)`);
      this.results.link.measurements.push(await measureLink(from, to, { seconds: this.plan.iperfSeconds }));
    }
  }

  /** Removes Podman's image and whatever container of the benchmark a stopped cell left behind. */
  async close(): Promise<void> {
    await this.peer?.close().catch((e: unknown) => this.say(`could not clean up Podman: ${errorMessage(e)}`));
    for (const w of this.plan.workloads.filter((x): x is GroupWorkload => x.moves === 'group')) {
      await this.removeGroup(w).catch((e: unknown) => this.say(`could not remove the group ${w.group}: ${errorMessage(e)}`));
    }
    const names = this.plan.workloads.flatMap((w) => (w.moves === 'container' ? workloadContainers(w) : []));
    for (const n of names) {
      await this.clear(n).catch((e: unknown) => this.say(`could not remove ${n}: ${errorMessage(e)}`));
      for (const h of [this.a, this.b]) await stopFront(h, n).catch(() => undefined);
    }
  }
}

async function gitCommit(): Promise<string | null> {
  try {
    return (await runLocal('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT })).stdout.trim() || null;
  } catch {
    return null;
  }
}

async function ferryVersion(): Promise<string> {
  return (JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Methods that run both ways between the hosts (the container goes back and forth), and why the others do not. */
function runnableMethods(plan: BenchPlan, [ca, cb]: readonly [HostCapabilities, HostCapabilities]): { runnable: string[]; skipped: Skipped[] } {
  const runnable: string[] = [];
  const skipped: Skipped[] = [];
  for (const m of plan.methods) {
    const why = methodBlocker(m, ca, cb) ?? methodBlocker(m, cb, ca);
    if (why) skipped.push({ what: `method ${m}`, reason: why });
    else runnable.push(m);
  }
  return { runnable, skipped };
}

/** The two hosts the benchmark moves between (pure): the first two, or on two clouds the first of each. */
export function benchHosts(file: Pick<HostsFile, 'hosts'>, twoClouds: boolean): [string, string] {
  if (twoClouds) {
    const clouds = [...new Set(file.hosts.map((h) => h.cloud))];
    const pair = clouds.slice(0, 2).map((c) => file.hosts.find((h) => h.cloud === c)!.name);
    if (pair.length === 2) return [pair[0]!, pair[1]!];
  }
  return [file.hosts[0]!.name, file.hosts[1]!.name];
}

/** Runs the benchmark and writes its files. A step failing midway still leaves the results of what ran (marked incomplete). */
export async function runBench(asked: BenchPlan, deps: BenchDeps): Promise<BenchOutput> {
  const { config, say } = deps;
  let plan = asked;
  const date = new Date().toISOString();
  // The lab that is up, unless another is asked for: a bench must not swap a qemu lab for a namespace one unasked.
  const provider = plan.provider ?? (await new Lab(config).currentProvider()) ?? 'local';
  const file = await ensureLab(config, say, { provider });
  if (file.hosts.length < 2) throw new FerryError(ErrorCode.LabNotUp, `the benchmark needs two hosts; the lab has ${file.hosts.length}`);
  // A two-cloud lab: one host in each cloud, across its WAN, which is the link unless another is asked for.
  const state = await new Lab(config).current();
  const wan = state?.topology === 'two-clouds' && state.link ? new LabWan(state.link) : undefined;
  if (wan && !plan.linkAsked) plan = { ...plan, link: state!.link! };
  const [first, second] = benchHosts(file, wan !== undefined);
  const a = new RemoteHost(findHost(file, first), { defaultTimeoutS: config.commandTimeoutS });
  const b = new RemoteHost(findHost(file, second), { defaultTimeoutS: config.commandTimeoutS });
  try {
    const caps = (await Promise.all([probeHost(a), probeHost(b)])) as [HostCapabilities, HostCapabilities];
    const podman = plan.peer === 'off' ? [null, null] : await Promise.all([PodmanPeer.version(a), PodmanPeer.version(b)]);
    const skipped: Skipped[] = [];
    const lacking = [a, b].filter((_, i) => !podman[i]).map((h) => h.name);
    const withPeer = plan.peer !== 'off' && lacking.length === 0;
    if (plan.peer === 'required' && !withPeer) {
      throw new FerryError(ErrorCode.PeerUnavailable, `Podman is not installed on ${lacking.join(' and ')}: the full benchmark has a Podman row (scripts/setup.sh installs Debian's podman; --no-podman leaves the row out)`);
    }
    if (plan.peer === 'off') skipped.push({ what: 'Podman row', reason: 'left out (--no-podman)' });
    else if (!withPeer) skipped.push({ what: 'Podman row', reason: `Podman is not installed on ${lacking.join(' and ')}` });
    if (!plan.haproxy) skipped.push({ what: 'HAProxy rows', reason: 'left out (--no-haproxy)' });
    const { runnable, skipped: methodSkips } = runnableMethods(plan, caps);
    skipped.push(...methodSkips);
    for (const s of methodSkips) say(`skipping ${s.what}: ${s.reason}`);
    if (runnable.length === 0 && !withPeer) throw new FerryError(ErrorCode.MethodUnsupported, `no method can run between ${a.name} and ${b.name}: ${methodSkips.map((s) => s.reason).join('; ')}`);

    const shaper = deps.shaper ? deps.shaper([a, b]) : (wan ?? new HtbShaper([a, b]));
    const blocked = await shaper.blocker(plan.link);
    if (blocked) throw new FerryError(ErrorCode.LinkUnsupported, `link profile ${plan.link.name} cannot be had on this lab: ${blocked}`);

    const memory: HostMemory[] = await Promise.all([hostMemory(a), hostMemory(b)]);
    const cpus = os.cpus();
    const results: BenchResults = {
      schema: 1,
      meta: {
        date,
        lab: wan ? `${labName(file.environment)}-two-clouds` : labName(file.environment),
        labTitle: wan ? `${labTitle(file.environment)}, two clouds joined by WireGuard (${a.name} → ${b.name})` : labTitle(file.environment),
        machine: { cores: cpus.length, cpu: cpus[0]?.model.trim() ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
        hosts: [hostInfo(a, caps[0], podman[0] ?? null), hostInfo(b, caps[1], podman[1] ?? null)],
        runs: plan.runs,
        sizes: plan.sizes,
        kvMib: plan.kvMib,
        dirtyMiBPerS: plan.dirtyMiBPerS,
        quick: plan.quick,
        probeClients: plan.probeClients,
        ferry: { version: await ferryVersion(), commit: await gitCommit() },
      },
      link: { profile: plan.link, shaping: 'not applied', measurements: [] },
      cells: [],
      skipped,
    };
    const run = new BenchSession(plan, deps, file, a, b, runnable, withPeer, results);
    try {
      say(`link: ${plan.link.name}`);
      results.link.shaping = await shaper.apply(plan.link);
      await run.measure();
      for (const w of plan.workloads) {
        for (const mib of workloadSizes(w, plan)) {
          const tooBig = sizeBlocker(mib, memory);
          if (tooBig) {
            skipped.push({ what: `${w.name} at ${mib} MiB`, reason: tooBig });
            say(`skipping ${w.name} at ${mib} MiB: ${tooBig}`);
            continue;
          }
          try {
            await run.cell(w, mib);
          } catch (e) {
            if (isInterrupt(e) || deps.signal?.aborted) throw e;
            // One cell's trouble (its container lost, a deploy failing) is recorded; the next cell starts clean.
            skipped.push({ what: `the rest of ${w.name} at ${mib} MiB`, reason: errorMessage(e) });
            say(`${w.name} at ${mib} MiB stopped: ${errorMessage(e)}`);
          }
        }
      }
      await run.measure();
    } catch (e) {
      results.incomplete = isInterrupt(e) ? errorMessage(e) : `stopped by an error: ${errorMessage(e)}`;
      say(`benchmark ${results.incomplete}`);
    } finally {
      await run.close();
      await shaper.clear().catch((e: unknown) => say(`could not remove the link shaping: ${errorMessage(e)} ('ferry bench --unshape' retries)`));
    }
    return await writeOutputs(results, deps.outDir ?? RESULTS_DIR);
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Writes `<date>-<lab>-<link>.json`, `.md` and the charts into `dir`. */
export async function writeOutputs(results: BenchResults, dir: string): Promise<BenchOutput> {
  const cells = results.cells.map((c) => summarizeCell(c, results.link.measurements));
  const hs = headlines(cells);
  await mkdir(dir, { recursive: true });
  const base = uniqueBaseName(resultsBaseName(results.meta.date, results.meta.lab, results.link.profile.name), (n) => existsSync(path.join(dir, `${n}.json`)));
  const json = path.join(dir, `${base}.json`);
  const markdown = path.join(dir, `${base}.md`);
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(markdown, renderResultsMarkdown(results, cells, hs));
  const charts = await writeCharts(dir, base, results, cells);
  return { results, cells, headlines: hs, files: { json, markdown, charts } };
}

/** Removes whatever link shaping is left on the lab's first two hosts (after an interrupted run). */
export async function unshapeLab(config: FerryConfig, file: HostsFile, shaper?: BenchDeps['shaper']): Promise<string[]> {
  const hosts = file.hosts.slice(0, 2).map((h) => new RemoteHost(h, { defaultTimeoutS: config.commandTimeoutS })) as [RemoteHost, RemoteHost];
  try {
    await (shaper ? shaper(hosts) : new HtbShaper(hosts)).clear();
    return hosts.map((h) => h.name);
  } finally {
    for (const h of hosts) h.dispose();
  }
}
