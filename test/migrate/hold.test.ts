import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MigrationEvents } from '../../src/migrate/events.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { MigrationEngine } from '../../src/migrate/MigrationEngine.ts';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { trafficFor, type HoldMode } from '../../src/traffic/detect.ts';
import { isPng } from '../../src/charts/png-info.ts';
import { startProbe } from '../../src/probe/probe-run.ts';
import { FULL_SCOPE, labUnavailable, skipNote } from '../helpers/env.ts';
import { clearLab, config, ferry, hostsFile, labDown, labUp, onHost, provision, deploy, runcState } from '../helpers/lab.ts';

const why = labUnavailable();
skipNote(why, 'HAProxy + hold server under load');

/** Puts HAProxy on lab-1 back to sending traffic to its own container. */
async function resetFront(): Promise<void> {
  const h = new RemoteHost((await hostsFile()).hosts[0]!);
  try {
    for (const c of ['set server be_web1/src state ready', 'set server be_web1/dst state maint', 'set server be_web1/hold state maint']) {
      await h.run(['socat', 'stdio', 'unix-connect:/run/ferry/haproxy-web1.sock'], { stdin: `${c}\n` });
    }
  } finally {
    h.dispose();
  }
}

async function migrateUnderLoad(hold: HoldMode, post = false): Promise<{ report: MigrationReport; probe: Awaited<ReturnType<ReturnType<typeof startProbe>['stop']>> }> {
  const file = await hostsFile();
  const traffic = await trafficFor(file, 'web1', 'lab-1', hold);
  expect(traffic).toBeDefined();
  const events = new MigrationEvents();
  const probe = startProbe(`http://${file.hosts[0]!.address}:80/${post ? 'cgi-bin/post' : 'counter'}`, events, { concurrency: 50, post });
  await new Promise((r) => setTimeout(r, 1000)); // load before the migration starts, as in the paper's runs
  try {
    const report = await new MigrationEngine(file, config).migrate({ id: newMigrationId(), container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server' }, { traffic: traffic!.sw, events });
    await new Promise((r) => setTimeout(r, 1000));
    return { report, probe: await probe.stop() };
  } finally {
    traffic!.front.dispose();
  }
}

/** The failed requests, with when they started relative to the freeze: what a failure message needs. */
function failed(samples: { seq: number; startMs: number; latencyMs: number; status: number; error?: string }[], report: MigrationReport): string {
  const bad = samples.filter((s) => s.error || s.status < 200 || s.status >= 300);
  return `${bad.length} failed (downtime ${report.times.downtime?.toFixed(2)} s; traffic: ${report.traffic}): ${JSON.stringify(bad.slice(0, 10))}`;
}

/** Each test starts with web1 on lab-1 behind its HAProxy, whatever the previous test left. */
async function web1OnLab1(): Promise<void> {
  if ((await runcState('lab-2', 'web1')) === 'running') {
    const r = await ferry(['migrate', 'web1', '--from', 'lab-2', '--to', 'lab-1', '--method', 'page-server', '--quiet', '--json']);
    expect(r.code, r.stderr).toBe(0);
  }
  expect(await runcState('lab-1', 'web1')).toBe('running');
  await resetFront();
}

describe.skipIf(why !== null)('HAProxy switch-over with the hold server, 50 clients', () => {
  beforeAll(async () => {
    await labUp(2);
    await provision();
    await clearLab(); // a known state, whatever an earlier suite or run left
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 256, port: 8080 });
    const r = await ferry(['front', 'web1', '--on', 'lab-1']);
    expect(r.code, r.stderr).toBe(0);
    await resetFront();
  });
  beforeEach(web1OnLab1);
  afterAll(async () => {
    await labDown();
  });

  // Latency figures are printed, not asserted: speed is the benchmark's job.
  it('with --hold: no request fails, every held request is forwarded', async () => {
    const { report, probe } = await migrateUnderLoad('on');
    expect(report.outcome).toBe('migrated');
    expect(report.traffic).toMatch(/hold server/);
    console.log(`hold: ${probe.summary.requests} requests, ${probe.summary.failures} failed, p99 ${probe.summary.p99Ms.toFixed(0)} ms, downtime ${report.times.downtime!.toFixed(2)} s`);
    expect(probe.summary.requests).toBeGreaterThan(100);
    expect(probe.summary.failures, failed(probe.samples, report)).toBe(0);
    expect(report.traffic).toMatch(/, 0 expired, 0 rejected/);
    // The plot comes from this real run.
    expect(isPng(probe.png)).toBe(true);
  });

  // The control (what the hold server is for) runs in the full run (npm run test:full).
  it.runIf(FULL_SCOPE)('without the hold server the same run shows failed requests', async () => {
    const { report, probe } = await migrateUnderLoad('off');
    expect(report.outcome).toBe('migrated');
    console.log(`no hold: ${probe.summary.requests} requests, ${probe.summary.failures} failed`);
    expect(probe.summary.failures).toBeGreaterThan(0);
  });

  it('POST bodies sent during the freeze arrive intact at the restored container', async () => {
    const { report, probe } = await migrateUnderLoad('on', true);
    expect(report.outcome).toBe('migrated');
    expect(probe.summary.failures, failed(probe.samples, report)).toBe(0);
    const log = await onHost('lab-2', ['cat', '/var/lib/ferry/containers/web1/rootfs/var/log/ferry-posts.log']);
    const bodies = log.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1));
    const counts = new Map<string, number>();
    for (const b of bodies) counts.set(b, (counts.get(b) ?? 0) + 1);
    const ok = probe.samples.filter((s) => s.status >= 200 && s.status < 300);
    for (const s of ok) {
      const body = `probe-body-${s.seq}-${'x'.repeat(s.seq % 97)}`;
      expect(counts.get(body), `request ${s.seq}`).toBe(1);
    }
  });
});
