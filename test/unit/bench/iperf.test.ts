import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iperfClientArgv, iperfServerArgv, listeningArgv, parseIperfJson } from '../../../src/bench/iperf.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { catchFerry } from '../catch-ferry.ts';

const fixture = (f: string) => readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8');

describe('iperf3 command lines', () => {
  it('runs a one-off daemonized server bound to the target peer address', () => {
    expect(iperfServerArgv({ port: 15210, bind: '10.247.0.12', pidFile: '/run/ferry/iperf3-15210.pid' })).toEqual([
      'iperf3', '-s', '-1', '-D', '-p', '15210', '-B', '10.247.0.12', '--pidfile', '/run/ferry/iperf3-15210.pid',
    ]);
  });

  it('runs the client from the source peer address, with JSON output', () => {
    expect(iperfClientArgv({ server: '10.247.0.12', port: 15210, bind: '10.247.0.11' })).toEqual([
      'iperf3', '-c', '10.247.0.12', '-p', '15210', '-B', '10.247.0.11', '-t', '10', '-J', '--connect-timeout', '5000',
    ]);
    expect(iperfClientArgv({ server: 'a', port: 1, bind: 'b', seconds: 3 })).toContain('3');
  });

  it('asks ss whether the port listens yet', () => {
    expect(listeningArgv(15210)).toEqual(['ss', '-Hltn', 'sport = :15210']);
  });
});

describe('parseIperfJson', () => {
  it("reads the receiver's totals from a real iperf 3.12 run", () => {
    const m = parseIperfJson(fixture('iperf3-client.json'));
    expect(m.bitsPerSecond).toBeCloseTo(9944496601.02767, 3);
    expect(m.bytes).toBe(1246363648);
    expect(m.seconds).toBeCloseTo(1.002656, 6);
    expect(m.retransmits === null || Number.isInteger(m.retransmits)).toBe(true);
  });

  it('fails on the error iperf3 reports with exit 0 when nothing listens', () => {
    const e = catchFerry(() => parseIperfJson(fixture('iperf3-refused.json')), ErrorCode.LinkMeasureFailed);
    expect(e.message).toBe('iperf3: unable to connect to server: Connection refused');
  });

  it('fails on text that is not its JSON, or JSON without totals', () => {
    expect(catchFerry(() => parseIperfJson('iperf3: error - unable to connect'), ErrorCode.LinkMeasureFailed).message).toContain('printed no JSON');
    expect(catchFerry(() => parseIperfJson(''), ErrorCode.LinkMeasureFailed).message).toContain('(nothing)');
    expect(catchFerry(() => parseIperfJson('{"end": {}}'), ErrorCode.LinkMeasureFailed).message).toContain('no receiver totals');
    expect(catchFerry(() => parseIperfJson('{"end": {"sum_received": {"bytes": 0, "seconds": 1, "bits_per_second": 0}}}'), ErrorCode.LinkMeasureFailed).message).toContain('no receiver totals');
    catchFerry(() => parseIperfJson('[1]'), ErrorCode.LinkMeasureFailed);
  });

  it('keeps retransmits when the sender reports them', () => {
    const j = { end: { sum_received: { bytes: 2.5e8, seconds: 10, bits_per_second: 2e8 }, sum_sent: { retransmits: 42 } } };
    expect(parseIperfJson(JSON.stringify(j))).toEqual({ bitsPerSecond: 2e8, bytes: 2.5e8, seconds: 10, retransmits: 42 });
  });
});
