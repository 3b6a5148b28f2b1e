import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { aggregate, renderBenchMarkdown } from '../../bench/aggregate.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { Lab } from '../../infra/lab.ts';
import { loadHostsFile } from '../../hosts/inventory.ts';
import { probeHost } from '../../hosts/probe.ts';
import { withHosts } from '../../hosts/session.ts';
import { MigrationEngine } from '../../migrate/MigrationEngine.ts';
import { METHODS, methodBlocker, parseMethod, type Method } from '../../migrate/methods.ts';
import type { MigrationReport } from '../../migrate/report.ts';
import { parseFlags, type Output } from '../main.ts';

/**
 * Reproduces Table II on this machine: every method the lab can run, side by side in one run,
 * the same container moved back and forth, mean ± sd per phase. Writes JSON and Markdown.
 */
export async function benchCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, {
    runs: { type: 'string', default: '3' },
    mib: { type: 'string', default: '256' },
    'dirty-mib-per-s': { type: 'string', default: '1' },
    methods: { type: 'string' },
    out: { type: 'string' },
  });
  const runs = Number(values.runs);
  const mib = Number(values.mib);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new FerryError(ErrorCode.UsageError, `--runs must be 1-50 (got ${values.runs})`);
  if (!Number.isFinite(mib) || mib < 1) throw new FerryError(ErrorCode.UsageError, `--mib must be a positive number (got ${values.mib})`);
  const config = loadConfig();
  const lab = new Lab(config, (m) => io.err(m));
  const file = await lab.up(2);
  const [a, b] = file.hosts.map((h) => h.name) as [string, string];
  await runPlaybook('provision.yml', file.inventoryFile);
  const name = 'bench-web';
  io.err(`deploying ${name} (${mib} MiB ballast) on ${a}`);
  for (const h of [a, b]) {
    // Start clean: the container may sit on either host after an interrupted run.
    await withHosts([h], async ([host]) => {
      await host!.exec(['runc', '--root', '/run/ferry/runc', 'delete', '--force', name]);
      await host!.exec(['rm', '-rf', `/var/lib/ferry/containers/${name}`]);
    });
  }
  await runPlaybook('workload.yml', file.inventoryFile, {
    limit: a,
    extraVars: { workload: 'web', name, ballast_mib: mib, dirty_mib_per_s: Number(values['dirty-mib-per-s']), port: 8090, replace: true },
  });
  const caps = await withHosts([a, b], (hs) => Promise.all(hs.map((h) => probeHost(h))));
  const wanted: Method[] = values.methods ? values.methods.split(',').map((m) => parseMethod(m.trim()) as Method) : [...METHODS];
  const methods = wanted.filter((m) => {
    const blocker = methodBlocker(m, caps[0]!, caps[1]!);
    if (blocker) io.err(`skipping ${m}: ${blocker}`);
    return !blocker;
  });
  const engine = new MigrationEngine(await loadHostsFile(config.hostsFile), config);
  const reports: MigrationReport[] = [];
  let where = a;
  for (let run = 1; run <= runs; run++) {
    for (const method of methods) {
      const to = where === a ? b : a;
      io.err(`run ${run}/${runs}: ${method} ${where} → ${to}`);
      const r = await engine.migrate({ container: name, from: where, to, method });
      reports.push(r);
      where = r.runsOn;
    }
  }
  await withHosts([where], ([host]) => host!.exec(['runc', '--root', '/run/ferry/runc', 'delete', '--force', name]));
  const summaries = aggregate(reports);
  const table = renderBenchMarkdown(summaries);
  const outDir = values.out ? path.resolve(values.out) : config.benchDir;
  await mkdir(outDir, { recursive: true });
  const stamp = new Date().toISOString();
  const meta = { date: stamp, machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, kernel ${os.release()}`, lab: 'namespace lab (one kernel, veth bridge)', container: `web, ${mib} MiB ballast`, runs };
  await writeFile(path.join(outDir, 'bench.json'), JSON.stringify({ meta, summaries, reports }, null, 2));
  await writeFile(path.join(outDir, 'bench.md'), `${table}\n\n${meta.date}; ${meta.machine}; ${meta.lab}; ${meta.container}; ${runs} runs per method; seconds, mean ± sd.\n`);
  io.out(table);
  io.out(`\nwritten: ${path.join(outDir, 'bench.json')}, ${path.join(outDir, 'bench.md')}`);
  return summaries.every((s) => s.failures === 0) ? 0 : 1;
}
