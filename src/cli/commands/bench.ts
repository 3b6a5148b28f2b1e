import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deployWorkload, ensureLab, hostsRunning } from '../../app/lab.ts';
import { runMigration } from '../../app/migrate.ts';
import { aggregate, renderBenchMarkdown } from '../../bench/aggregate.ts';
import { loadConfig, type FerryConfig } from '../../config.ts';
import { probeHost } from '../../hosts/probe.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import { findHost } from '../../hosts/inventory.ts';
import { removeContainer } from '../../migrate/debris.ts';
import { METHODS, methodBlocker, parseMethod, type Method } from '../../migrate/methods.ts';
import type { MigrationReport } from '../../migrate/report.ts';
import { newMigrationId } from '../../migrate/request.ts';
import { numberFlag, parseFlags, type Command } from '../command.ts';
import { runSteps, VERBOSE_HELP } from '../steps.ts';

const SYNOPSIS = 'ferry bench [--runs N] [--mib N] [--dirty-mib-per-s R] [--methods a,b] [--out DIR] [--verbose] [--json]';

/**
 * Reproduces Table II on this machine: every method the lab can run, side by side in one run,
 * the same container moved back and forth, mean ± sd per phase. Writes JSON and Markdown.
 */
export const benchCommand: Command = {
  name: 'bench',
  synopsis: SYNOPSIS,
  summary: 'reproduce Table II: every method the hosts support, side by side, N runs each',
  details: VERBOSE_HELP,
  async run(args, io) {
    const { values } = parseFlags(
      args,
      { runs: { type: 'string', default: '3' }, mib: { type: 'string', default: '256' }, 'dirty-mib-per-s': { type: 'string', default: '1' }, methods: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } },
      SYNOPSIS,
    );
    const runs = numberFlag('runs', values.runs, { min: 1, max: 50, integer: true })!;
    const mib = numberFlag('mib', values.mib, { min: 1 })!;
    const dirty = numberFlag('dirty-mib-per-s', values['dirty-mib-per-s'], { min: 0 })!;
    const wanted = values.methods ? values.methods.split(',').map((m) => parseMethod(m.trim())) : [...METHODS];
    if (wanted.includes('auto')) wanted.splice(wanted.indexOf('auto'), 1);
    const config = loadConfig();
    const { value: reports } = await runSteps(io, { command: 'bench', verbose: values.verbose, logDir: config.labDir, plain: values.json }, (say, note) => benchRuns(config, { runs, mib, dirty, wanted }, say, note));
    const summaries = aggregate(reports);
    const table = renderBenchMarkdown(summaries);
    const outDir = values.out ? path.resolve(values.out) : config.benchDir;
    await mkdir(outDir, { recursive: true });
    const meta = { date: new Date().toISOString(), machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, kernel ${os.release()}`, lab: 'namespace lab (one kernel, veth bridge)', container: `web, ${mib} MiB ballast`, runs };
    await writeFile(path.join(outDir, 'bench.json'), JSON.stringify({ meta, summaries, reports }, null, 2));
    await writeFile(path.join(outDir, 'bench.md'), `${table}\n\n${meta.date}; ${meta.machine}; ${meta.lab}; ${meta.container}; ${runs} runs per method; seconds, mean ± sd.\n`);
    if (values.json) io.out(JSON.stringify({ meta, summaries }, null, 2));
    else {
      io.out(table);
      io.out(`\nwritten: ${path.join(outDir, 'bench.json')}, ${path.join(outDir, 'bench.md')}`);
    }
    return summaries.every((s) => s.failures === 0) ? 0 : 1;
  },
};

/** The benchmark's runs: the lab up, the container deployed, every method back and forth `runs` times. */
async function benchRuns(config: FerryConfig, o: { runs: number; mib: number; dirty: number; wanted: Method[] }, say: (step: string) => void, note: (line: string) => void): Promise<MigrationReport[]> {
  const { runs, mib, dirty, wanted } = o;
  const file = await ensureLab(config, say);
  const [a, b] = file.hosts.map((h) => h.name) as [string, string];
  const name = 'bench-web';
  // Start clean: the container may sit on either host after an interrupted run.
  say(`clearing ${name} from earlier runs`);
  for (const c of await hostsRunning(config, file, name)) await onHost(file, c.host, (h) => removeContainer(h, name));
  say(`deploying ${name} (${mib} MiB ballast) on ${a}`);
  await deployWorkload(file, a, { workload: 'web', name, ballast_mib: mib, dirty_mib_per_s: dirty, port: 8090, replace: true });
  say(`probing ${a} and ${b}: which methods they can run`);
  const caps = await Promise.all([a, b].map((h) => onHost(file, h, (x) => probeHost(x))));
  const methods = wanted.filter((m) => {
    const blocker = methodBlocker(m, caps[0]!, caps[1]!);
    if (blocker) note(`skipping ${m}: ${blocker}`);
    return !blocker;
  });
  const reports: MigrationReport[] = [];
  let where = a;
  for (let run = 1; run <= runs; run++) {
    for (const method of methods) {
      const to = where === a ? b : a;
      say(`run ${run}/${runs}: ${method} ${where} → ${to}`);
      const r = await runMigration({ id: newMigrationId(), container: name, from: where, to, method, requestedBy: 'bench' }, { config, hosts: file, provision: false });
      if (r.outcome !== 'migrated') note(`run ${run}/${runs}: ${method} rolled back: ${r.error ?? 'no reason given'}`);
      reports.push(r);
      where = r.runsOn;
    }
  }
  say(`removing ${name}`);
  await onHost(file, where, (h) => removeContainer(h, name));
  return reports;
}

async function onHost<T>(file: Parameters<typeof findHost>[0], name: string, fn: (h: RemoteHost) => Promise<T>): Promise<T> {
  const h = new RemoteHost(findHost(file, name));
  try {
    return await fn(h);
  } finally {
    h.dispose();
  }
}
