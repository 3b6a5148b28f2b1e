import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from '@slack/bolt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/chat/core/policy.ts';
import { startRuntime, type Runtime } from '../../../src/chat/runtime.ts';
import { createSlackApp, opsRoutes } from '../../../src/chat/slack/SlackApp.ts';
import type { OpsEndpoints } from '../../../src/queue/ops-http.ts';
import { loadConfig } from '../../../src/config.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { SlackStandIn } from '../../helpers/slack-standin.ts';
import { freePort } from '../../../src/util/free-port.ts';
import { redisMissing } from '../helpers/redis.ts';
import { ALICE, BOB, approvalFlow, clickPayload, commandFields } from './approval-flow.ts';

/**
 * Socket Mode through Bolt's real SocketModeReceiver and Slack's own socket-mode client. Slack's servers
 * cannot exist here: the stand-in (test/helpers/slack-standin.ts) answers `apps.connections.open` with the
 * URL of a local WebSocket that speaks Slack's Socket Mode protocol (hello, envelopes, acknowledgements),
 * and the Web API calls Ferry makes. Behind it: Ferry's runtime (chat service, progress relay, queue) on
 * a real Redis this test starts, with no worker: the flow stops at the enqueued job, since running a
 * migration needs the lab.
 */

const why = redisMissing();
if (why) console.warn(`SKIPPED Slack Socket Mode approval flow: ${why}`);


describe.skipIf(why !== null)('Slack Socket Mode: the approval flow over a WebSocket', () => {
  const slack = new SlackStandIn();
  let redis: LocalRedis;
  let dir: string;
  let rt: Runtime;
  let app: App;
  let port: number;

  beforeAll(async () => {
    await slack.start();
    redis = await startLocalRedis();
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-socket-'));
    const hostsFile = path.join(dir, 'hosts.json');
    const host = (name: string, i: number) => ({ name, address: `10.99.0.${i}`, port: 22, user: 'root', privateKeyFile: '/nonexistent/key', hostKey: 'ssh-ed25519 AAAA', environment: 'local' });
    await writeFile(hostsFile, JSON.stringify({ environment: 'local', knownHostsFile: path.join(dir, 'known_hosts'), inventoryFile: path.join(dir, 'inventory.ini'), hosts: [host('lab-1', 2), host('lab-2', 3)] }));
    const config = loadConfig({ REDIS_URL: redis.url, FERRY_LAB_DIR: dir, FERRY_HOSTS_FILE: hostsFile });
    const policy = loadPolicy({ environments: { local: { requesters: [ALICE], approvers: [BOB] } } });
    port = await freePort();
    let ops: OpsEndpoints | undefined;
    const s = createSlackApp({ botToken: 'xoxb-test', appToken: 'xapp-test', port, slackApiUrl: slack.url, routes: opsRoutes(() => ops) }, pino({ level: 'silent' }));
    app = s.app;
    rt = await startRuntime(config, s.transport, policy, { worker: false });
    ops = rt.ops;
    s.bind(rt.service);
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await rt?.close();
    await redis?.stop();
    await slack.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('opens the connection with the app-level token and no public URL', () => {
    const open = slack.callsOf('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.token).toBe('xapp-test');
    expect(slack.connections).toBe(1);
  });

  it('acknowledges each envelope, asks, refuses self-approval, and enqueues on a second person\'s approval', async () => {
    const acks: unknown[] = [];
    const id = await approvalFlow(
      slack,
      {
        command: async (user, text) => void acks.push(await slack.deliver('slash_commands', commandFields(slack.url, user, text))),
        click: async (user, actionId, value, ts) => void acks.push(await slack.deliver('interactive', clickPayload(slack.url, user, actionId, value, ts))),
      },
      rt.queue,
    );
    expect(acks).toHaveLength(3);
    expect(await rt.queue.get(id)).toBeDefined();
  });

  it('serves /healthz (Redis checked) and /metrics (the queue\'s counts) on its own HTTP port beside the WebSocket', async () => {
    const h = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('redis: ok\n');
    const m = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^bullmq_job_count\{queue="migrations", state="waiting"\} 1$/m);
  });
});
