import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@slack/bolt';
import { loadPolicy } from '../../src/chat/core/policy.ts';
import { startRuntime, type Runtime } from '../../src/chat/runtime.ts';
import { createSlackApp } from '../../src/chat/slack/SlackApp.ts';
import { logger } from '../../src/log.ts';
import { startLocalRedis, type LocalRedis } from '../../src/queue/local-redis.ts';
import { opsServer } from '../../src/queue/ops-http.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { config, deploy, ferry, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';
import { SlackStandIn, slackSignature, type RecordedCall } from '../helpers/slack-standin.ts';
import { freePort } from '../../src/util/free-port.ts';

const why = labUnavailable();
skipNote(why, 'Slack end-to-end (Bolt over HTTP, real Redis, real worker, real migration)');

const SECRET = 'test-signing-secret';
const ALICE = 'UALICE';
const BOB = 'UBOB';
const MALLORY = 'UMALLORY';


const textOf = (c: RecordedCall) => JSON.stringify(c.args);

describe.skipIf(why !== null)('Slack: /migrate through Bolt over real HTTP', () => {
  const slack = new SlackStandIn();
  let redis: LocalRedis;
  let rt: Runtime;
  let app: App;
  let base = '';
  let ops: http.Server | undefined;
  let opsBase = '';

  /** Posts to Bolt's receiver exactly as Slack does: form body, signature, timestamp. */
  async function send(body: string, opts: { ts?: number; secret?: string } = {}) {
    const ts = opts.ts ?? Math.floor(Date.now() / 1000);
    const t0 = performance.now();
    const r = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, body) },
      body,
    });
    await r.text();
    return { status: r.status, ms: performance.now() - t0 };
  }
  const command = (user: string, text: string) =>
    send(new URLSearchParams({ command: '/migrate', text, user_id: user, user_name: user.toLowerCase(), channel_id: 'COPS', team_id: 'TFERRY', response_url: `${slack.url}respond/${user}`, trigger_id: '1.2.3' }).toString());
  const click = (user: string, actionId: string, value: string, messageTs: string) =>
    send(
      new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          user: { id: user },
          team: { id: 'TFERRY' },
          channel: { id: 'COPS' },
          message: { ts: messageTs },
          container: { type: 'message', message_ts: messageTs, channel_id: 'COPS' },
          trigger_id: '1.2.3',
          response_url: `${slack.url}respond/${user}`,
          actions: [{ type: 'button', action_id: actionId, value, block_id: 'b', action_ts: '1' }],
        }),
      }).toString(),
    );
  const approvalFor = async (since: number) => {
    const post = await slack.waitFor((c) => slack.calls.indexOf(c) >= since && c.method === 'chat.postMessage' && textOf(c).includes('ferry_approve'));
    const id = /"value":"(m-[a-z0-9-]+)"/.exec(textOf(post))![1]!;
    return { id, ts: String(post.result.ts), call: post };
  };

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 128, port: 8080 });
    // HAProxy fronts web1: the worker holds clients through the freeze and probes the service, and
    // the response-time plot goes to the thread.
    const front = await ferry(['front', 'web1', '--on', 'lab-1']);
    expect(front.code, front.stderr).toBe(0);
    await slack.start();
    redis = await startLocalRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const policy = loadPolicy({ environments: { local: { requesters: [ALICE, BOB], approvers: [BOB, 'SAPPROVERS'] } } });
    slack.groups = { SAPPROVERS: ['UCAROL'] };
    const s = createSlackApp({ botToken: 'xoxb-test', signingSecret: SECRET, port, slackApiUrl: slack.url }, logger());
    app = s.app;
    rt = await startRuntime({ ...config, redisUrl: redis.url, provisionBeforeMigrate: true }, s.transport, policy, { worker: true });
    s.bind(rt.service);
    await app.start();
    // The worker's /healthz and /metrics, served as `ferry worker` serves them when FERRY_HEALTH_PORT is set.
    const opsPort = await freePort();
    ops = opsServer(opsPort, rt.ops, '127.0.0.1');
    opsBase = `http://127.0.0.1:${opsPort}`;
  });

  afterAll(async () => {
    ops?.close();
    await app?.stop();
    await rt?.close();
    await redis?.stop();
    await slack.stop();
    await labDown();
  });

  it('rejects a forged signature and a timestamp older than 5 minutes', async () => {
    const body = new URLSearchParams({ command: '/migrate', text: 'help', user_id: ALICE, channel_id: 'COPS', team_id: 'TFERRY', response_url: `${slack.url}respond/${ALICE}` }).toString();
    expect((await send(body, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await send(body, { ts: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    const n = slack.calls.length;
    expect((await send(body)).status).toBe(200);
    await slack.waitFor((c) => slack.calls.indexOf(c) >= n && c.method === `respond/${ALICE}` && textOf(c).includes('Usage'));
  });

  it('answers malformed commands and strangers precisely, only to them', async () => {
    const n = slack.calls.length;
    expect((await command(ALICE, 'web1 from lab-1 too lab-2')).status).toBe(200);
    // Private answers go through each request's response_url (Bolt's respond()), named here by user.
    const usage = await slack.waitFor((c) => slack.calls.indexOf(c) >= n && c.method === `respond/${ALICE}` && textOf(c).includes('expected'));
    expect(usage.args.response_type).toBe('ephemeral');
    expect(textOf(usage)).toMatch(/expected 'to &lt;host&gt;'|expected 'to <host>'/);
    const m = slack.calls.length;
    await command(MALLORY, 'web1 from lab-1 to lab-2');
    const deny = await slack.waitFor((c) => slack.calls.indexOf(c) >= m && c.method === `respond/${MALLORY}`);
    expect(textOf(deny)).toMatch(/Not allowed/);
    const k = slack.calls.length;
    await command(ALICE, 'web1 from lab-1 to mars-1');
    const unknown = await slack.waitFor((c) => slack.calls.indexOf(c) >= k && c.method === `respond/${ALICE}`);
    expect(textOf(unknown)).toMatch(/unknown host 'mars-1'/);
  });

  it('acknowledges 20 commands sent at once, each within Slack\'s window', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => command(ALICE, 'list')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`ack latency for 20 concurrent commands: p50 ${ms[9]!.toFixed(1)} ms, p99 ${ms[19]!.toFixed(1)} ms`);
  });

  it('runs /migrate end to end: approval, self-approval refused, second person approves, live status, summary, container on lab-2', async () => {
    const instance = await httpText('lab-1', 8080, '/instance');
    const n = slack.calls.length;
    expect((await command(ALICE, 'web1 from lab-1 to lab-2 method page-server')).status).toBe(200);
    const { id, ts, call } = await approvalFor(n);
    expect(call.args.channel).toBe('COPS');
    const blocks = JSON.stringify(call.args.blocks);
    expect(blocks).toContain('ferry_reject');
    expect(blocks).toContain('"confirm"');

    // A duplicate request for the same container, approved later, must be refused as already migrating.
    const d = slack.calls.length;
    await command(ALICE, 'web1 from lab-1 to lab-2');
    const dup = await approvalFor(d);

    const s = slack.calls.length;
    expect((await click(ALICE, 'ferry_approve', id, ts)).status).toBe(200);
    const self = await slack.waitFor((c) => slack.calls.indexOf(c) >= s && c.method === `respond/${ALICE}`);
    expect(textOf(self)).toMatch(/yourself/);

    // A member of an approver user group (resolved through usergroups.list) may approve.
    await click('UCAROL', 'ferry_approve', id, ts);
    await slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === ts);
    await click(BOB, 'ferry_approve', dup.id, dup.ts);
    const already = await slack.waitFor((c) => c.method === 'chat.postMessage' && textOf(c).includes('already being migrated'));
    expect(textOf(already)).toContain(id);

    const done = await slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts && /Downtime/.test(textOf(c)), 240_000);
    for (const col of ['Pre-dump', 'Pre-copy', 'Pre-migration', 'Checkpoint', 'Transfer', 'Restore', 'Downtime', 'Total']) expect(textOf(done)).toContain(col);
    const updates = slack.callsOf('chat.update').filter((c) => c.args.ts === ts);
    expect(updates.length).toBeGreaterThan(3); // live status: queued, phases, done
    expect(textOf(updates.at(-1)!)).toMatch(/moved/);
    const replies = slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts);
    expect(replies.some((c) => /Checkpoint/.test(textOf(c)))).toBe(true);
    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
    // The plot, uploaded to the job's thread beside the summary (files.uploadV2's steps).
    const complete = await slack.waitFor((c) => c.method === 'files.completeUploadExternal', 60_000);
    expect(complete.args.thread_ts).toBe(ts);
    const png = slack.uploads.find((u) => u.filename === `${id}-response-time.png`);
    expect(png?.bytes.subarray(1, 4).toString()).toBe('PNG');

    // The worker's /metrics counts this migration by the method that ran and its outcome, and times it
    // (the refused duplicate never moved anything: the count stays 1). The counter is fed by the
    // worker's `completed` event, so it is polled for a moment rather than read once.
    const moved = /^ferry_migrations_total\{method="page-server",outcome="migrated"\} 1$/m;
    const scrape = async () => {
      const r = await fetch(`${opsBase}/metrics`);
      return { status: r.status, text: await r.text() };
    };
    let metrics = await scrape();
    const until = Date.now() + 15_000;
    while (!moved.test(metrics.text) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      metrics = await scrape();
    }
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(moved);
    expect(metrics.text).toMatch(/^ferry_migration_downtime_seconds_count\{method="page-server"\} 1$/m);
    for (const phase of ['checkpoint', 'restore', 'downtime', 'total']) expect(metrics.text).toMatch(new RegExp(`^ferry_migration_phase_seconds_count\\{method="page-server",phase="${phase}"\\} 1$`, 'm'));
    const health = await fetch(`${opsBase}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toContain('worker: running');
  });
});
