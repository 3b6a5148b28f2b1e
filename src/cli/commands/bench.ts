import path from 'node:path';
import { RESULTS_DIR, runBench, unshapeLab, type BenchOutput } from '../../app/bench.ts';
import { loadHosts } from '../../app/hosts.ts';
import { renderCellTable, renderClientTable, renderHeadlines, renderProvenance } from '../../bench/markdown.ts';
import { planBench } from '../../bench/plan.ts';
import { parseWorkloads } from '../../bench/workloads.ts';
import { loadConfig } from '../../config.ts';
import { LAB_PROVIDERS, parseProvider } from '../../infra/lab.ts';
import { parseLinkProfile } from '../../infra/link/profile.ts';
import { parseMethod } from '../../migrate/methods.ts';
import { numberFlag, parseFlags, type Command } from '../command.ts';
import { runSteps, VERBOSE_HELP } from '../steps.ts';

const SYNOPSIS = [
  'ferry bench [--quick] [--sizes 64,256,1024] [--runs N] [--workloads web,kv,wordpress] [--kv-mib N] [--dirty-mib-per-s R]',
  '            [--methods a,b] [--link lan|wan|RTT-MS,MBIT[,LOSS-%]] [--probe-clients N] [--iperf-seconds S]',
  `            [--no-podman] [--no-haproxy] [--provider ${LAB_PROVIDERS.join('|')}] [--out DIR] [--verbose] [--json]`,
  'ferry bench --unshape [--json]',
].join('\n');

/** What `ferry bench --json` prints (pure): the files written, whether the run is complete, what was skipped, the headlines, every cell. */
export function benchJson(out: BenchOutput): string {
  return JSON.stringify({ files: out.files, incomplete: out.results.incomplete ?? null, skipped: out.results.skipped, headlines: out.headlines, cells: out.cells }, null, 2);
}

/**
 * Reproduces Table II on this machine in one command: every size, workload and method the hosts
 * support, Podman beside them and the link's own limit, N runs each; writes JSON, Markdown, PNGs.
 */
export const benchCommand: Command = {
  name: 'bench',
  synopsis: SYNOPSIS,
  summary: "reproduce Table II: sizes × methods the hosts support × N runs, with Podman's row and the link's limit",
  details: [
    '--quick            a harness check for CI: one size (64 MiB), 2 runs, Podman only if installed',
    '--sizes            web workload sizes in MiB (default 64,256,1024); --kv-mib the kv workload\'s one size (64)',
    '--runs             runs per row and size (default 5), back and forth between the first two lab hosts (on a',
    '                   two-cloud lab, ferry lab up --topology two-clouds: a-1 and b-1, across its WAN)',
    '--workloads        web, kv (default both), wordpress: the paper\'s WordPress + MariaDB pair, deployed once (ferry deploy',
    '                   wordpress) and moved back and forth as one group (ferry migrate --group) with each method, then',
    '                   removed; its row is the group\'s downtime window and total, bytes summed over both containers',
    '--link             lan (default: the bare link), wan (30 ms, 200 Mbit/s) or RTT-MS,MBIT[,LOSS-%]; the namespace',
    '                   lab shapes the rate only (no netem on its kernel): a delay or loss is refused there, saying why;',
    '                   a two-cloud lab\'s link is its WAN (the relay adds the delay): no --link takes it as it is',
    '--no-podman        leave out Podman\'s row (without --quick the run fails early where Podman is missing)',
    '--no-haproxy       leave out the row behind HAProxy with the hold server and the load probe',
    '--provider         the lab to run on (default: the lab that is up, else local); the qemu lab runs the pre-copy methods',
    '--unshape          remove link shaping an interrupted run left on the lab hosts, and exit',
    '--json             on stdout: the files written, incomplete, skipped, the headlines and every cell\'s summary',
    '                   (with --unshape: the hosts unshaped); progress stays on stderr',
    `--out              where the results go (default ${path.relative(process.cwd(), RESULTS_DIR) || RESULTS_DIR}): <date>-<lab>-<link>.json, .md, -downtime.png, -phases.png, -response-time.png`,
    'Ctrl-C stops after the current migration; what ran is written, marked incomplete.',
    VERBOSE_HELP,
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(
      args,
      {
        quick: { type: 'boolean' },
        sizes: { type: 'string' },
        runs: { type: 'string' },
        workloads: { type: 'string' },
        'kv-mib': { type: 'string' },
        'dirty-mib-per-s': { type: 'string' },
        methods: { type: 'string' },
        link: { type: 'string' },
        'probe-clients': { type: 'string' },
        'iperf-seconds': { type: 'string' },
        'no-podman': { type: 'boolean' },
        'no-haproxy': { type: 'boolean' },
        provider: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        unshape: { type: 'boolean' },
      },
      SYNOPSIS,
    );
    const config = loadConfig();
    const say = (m: string) => io.err(m);
    if (values.unshape) {
      const hosts = await unshapeLab(config, await loadHosts(config));
      io.out(values.json ? JSON.stringify({ unshaped: hosts }) : `link shaping removed from ${hosts.join(' and ')}`);
      return 0;
    }
    const plan = planBench({
      quick: values.quick,
      sizes: values.sizes,
      runs: numberFlag('runs', values.runs, { min: 1, max: 100, integer: true }),
      workloads: values.workloads !== undefined ? parseWorkloads(values.workloads) : undefined,
      kvMib: numberFlag('kv-mib', values['kv-mib'], { min: 1, max: 65536, integer: true }),
      dirtyMiBPerS: numberFlag('dirty-mib-per-s', values['dirty-mib-per-s'], { min: 0 }),
      methods: values.methods !== undefined ? values.methods.split(',').map((m) => parseMethod(m.trim())) : undefined,
      link: values.link !== undefined ? parseLinkProfile(values.link) : undefined,
      probeClients: numberFlag('probe-clients', values['probe-clients'], { min: 1, max: 1000, integer: true }),
      iperfSeconds: numberFlag('iperf-seconds', values['iperf-seconds'], { min: 1, max: 600, integer: true }),
      noPodman: values['no-podman'],
      noHaproxy: values['no-haproxy'],
      provider: values.provider !== undefined ? parseProvider(values.provider) : undefined,
    });

    // First Ctrl-C: finish the migration under way, clean up, write what ran. Second: leave now.
    const stop = new AbortController();
    const onSigint = () => {
      if (stop.signal.aborted) process.exit(130);
      say('stopping after the current migration (Ctrl-C again to leave at once, cleaning nothing up)');
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    let out;
    try {
      // Each of the bench's steps on the task list (or plain lines); its tools' output in the log file.
      ({ value: out } = await runSteps(io, { command: 'bench', verbose: values.verbose, logDir: config.labDir, plain: values.json }, (step) =>
        runBench(plan, { config, say: step, signal: stop.signal, outDir: values.out ? path.resolve(values.out) : undefined }),
      ));
    } finally {
      process.off('SIGINT', onSigint);
    }

    const failed = out.cells.some((c) => c.rows.some((r) => r.failures > 0));
    if (values.json) {
      io.out(benchJson(out));
    } else {
      io.out(renderProvenance(out.results));
      for (const c of out.cells) {
        io.out(`\n${c.title}\n\n${renderCellTable(c)}`);
        const client = renderClientTable(c);
        if (client) io.out(`\n${client}`);
      }
      io.out(`\n${renderHeadlines(out.headlines)}`);
      for (const s of out.results.skipped) io.out(`skipped ${s.what}: ${s.reason}`);
      if (out.results.incomplete) io.out(`\nINCOMPLETE: ${out.results.incomplete}`);
      const charts = Object.values(out.files.charts);
      io.out(`\nwritten: ${[out.files.json, out.files.markdown, ...charts].join(', ')}`);
    }
    return out.results.incomplete || failed ? 1 : 0;
  },
};
