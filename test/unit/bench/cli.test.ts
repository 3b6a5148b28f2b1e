import { describe, expect, it } from 'vitest';
import { headlines, summarizeCell } from '../../../src/bench/aggregate.ts';
import { benchJson } from '../../../src/cli/commands/bench.ts';
import { main, type Output } from '../../../src/cli/main.ts';
import { results } from './fixtures.ts';

function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

/** Every one of these is refused while the flags are read, before any lab or host is touched. */
describe('ferry bench flags', () => {
  const cases: [string[], string][] = [
    [['--sizes', '64,big'], "--sizes takes whole MiB from 1 to 65536, comma-separated (got 'big')"],
    [['--link', '30'], '--link takes lan, wan, or RTT-MS,MBIT[,LOSS-%]'],
    [['--link', '30,0'], 'the rate must be above 0'],
    [['--workloads', 'web,db'], "unknown workload 'db' in --workloads"],
    [['--methods', 'teleport'], "unknown method 'teleport'"],
    [['--runs', '0'], '--runs must be a whole number from 1 to 100'],
    [['--provider', 'aws'], "unknown lab provider 'aws'"],
    [['--kv-mib', '1.5'], '--kv-mib must be a whole number'],
    [['--fast'], "Unknown option '--fast'"],
  ];
  for (const [args, message] of cases) {
    it(`refuses ${args.join(' ')} as a usage error (2)`, async () => {
      const io = collect();
      expect(await main(['bench', ...args], io)).toBe(2);
      expect(io.stderr()).toContain(message);
      expect(io.stdout()).toBe('');
    });
  }

  it('documents every option in its help', async () => {
    const io = collect();
    expect(await main(['bench', '--help'], io)).toBe(0);
    for (const flag of ['--quick', '--sizes', '--runs', '--workloads', '--kv-mib', '--dirty-mib-per-s', '--methods', '--link', '--probe-clients', '--iperf-seconds', '--no-podman', '--no-haproxy', '--provider', '--out', '--json', '--unshape']) {
      expect(io.stdout()).toContain(flag);
    }
  });
});

describe('ferry bench --json', () => {
  it('is accepted by the parser: a bad flag beside it is refused for that flag, not for --json', async () => {
    for (const args of [['--json', '--runs', '0'], ['--runs', '0', '--json']]) {
      const io = collect();
      expect(await main(['bench', ...args], io)).toBe(2);
      expect(io.stderr()).toContain('--runs must be a whole number from 1 to 100');
      expect(io.stderr()).not.toContain("Unknown option '--json'");
    }
  });

  it('prints one JSON document: the files, incomplete, skipped, the headlines and every cell', () => {
    const res = { ...results(), skipped: [{ what: 'Podman', reason: 'not installed on lab-2' }], incomplete: 'interrupted' };
    const cells = res.cells.map((c) => summarizeCell(c, res.link.measurements));
    const files = { json: 'bench/results/x.json', markdown: 'bench/results/x.md', charts: {} };
    const parsed = JSON.parse(benchJson({ results: res, cells, headlines: headlines(cells), files }));
    expect(Object.keys(parsed)).toEqual(['files', 'incomplete', 'skipped', 'headlines', 'cells']);
    expect(parsed.files).toEqual(files);
    expect(parsed.incomplete).toBe('interrupted');
    expect(parsed.skipped).toEqual([{ what: 'Podman', reason: 'not installed on lab-2' }]);
    expect(parsed.cells).toHaveLength(3);
    expect(parsed.headlines).toEqual(JSON.parse(JSON.stringify(headlines(cells))));
    expect(JSON.parse(benchJson({ results: results(), cells, headlines: [], files })).incomplete).toBeNull();
  });
});
