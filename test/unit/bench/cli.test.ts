import { describe, expect, it } from 'vitest';
import { main, type Output } from '../../../src/cli/main.ts';

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
