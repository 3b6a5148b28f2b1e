import { execFileSync } from 'node:child_process';
import { App } from '@slack/bolt';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatService } from '../../../src/chat/ChatService.ts';
import { loadPolicy } from '../../../src/chat/core/policy.ts';
import { createSlackApp } from '../../../src/chat/slack/SlackApp.ts';
import type { HostsFile } from '../../../src/hosts/inventory.ts';
import { keys } from '../../../src/queue/jobs.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import { SlackStandIn, slackSignature, type RecordedCall } from '../../helpers/slack-standin.ts';
import { approvalFlow, clickPayload, commandFields } from './approval-flow.ts';
import { freePort } from '../../../src/util/free-port.ts';

/**
 * Bolt's real HTTP receiver (wrapped by FreshRequestReceiver) in front of the real SlackApp, a real
 * ChatService and a real Redis this test starts and stops itself. The only stand-in is for Slack's Web
 * API (test/helpers/slack-standin.ts): Slack's servers cannot exist here.
 */

function redisMissing(): string | null {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'needs redis-server on PATH (apt-get install redis-server; scripts/setup.sh installs it)';
  }
}

const why = redisMissing();
if (why) console.warn(`SKIPPED Slack HTTP receiver through Bolt, ChatService and Redis: ${why}`);

const SECRET = 'test-signing-secret';
const ALICE = 'UALICE';
const now = () => Math.floor(Date.now() / 1000);


/** A pino logger whose lines the test can read. */
function capturedLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const hostsFile: HostsFile = {
  environment: 'local',
  knownHostsFile: '/nonexistent/known_hosts',
  inventoryFile: '/nonexistent/inventory.ini',
  hosts: ['lab-1', 'lab-2'].map((name, i) => ({ name, address: `10.99.0.${i + 2}`, port: 22, user: 'root', privateKeyFile: '/nonexistent/key', hostKey: 'ssh-ed25519 AAAA', environment: 'local' })),
};

describe.skipIf(why !== null)('Slack HTTP receiver: real Bolt, ChatService and Redis', () => {
  const slack = new SlackStandIn();
  const { log, lines } = capturedLog();
  let redisServer: LocalRedis;
  let redis: Redis;
  let queue: MigrationQueue;
  let app: App;
  let base = '';

  /** Posts a body to Bolt's receiver exactly as Slack does: form body, signature, timestamp. */
  async function send(body: string, opts: { ts?: number; secret?: string; to?: string } = {}): Promise<number> {
    const ts = opts.ts ?? now();
    const r = await fetch(`${opts.to ?? base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, body) },
      body,
    });
    await r.text();
    return r.status;
  }
  const command = (channel: string, text: string) =>
    new URLSearchParams({ command: '/migrate', text, user_id: ALICE, user_name: 'alice', channel_id: channel, team_id: 'TFERRY', response_url: `${slack.url}respond/${channel}`, trigger_id: '1.2.3' }).toString();
  /** A private answer to a command from `channel`: Bolt's respond() posts it to the command's response_url. */
  const answeredIn = (channel: string) => (c: RecordedCall) => c.method === `respond/${channel}` && c.args.response_type === 'ephemeral';
  const ephemeralTo = (channel: string) => (c: RecordedCall) => c.method === 'chat.postEphemeral' && c.args.channel === channel;
  /** Waits until a request sent after the refused ones has been handled, then checks the refused one never reached the chat service. */
  async function expectNeverHandled(channel: string, marker: string): Promise<void> {
    expect(await send(command(marker, 'help'))).toBe(200);
    await slack.waitFor(answeredIn(marker), 10_000);
    expect(slack.calls.filter((c) => c.method.includes(channel) || JSON.stringify(c.args).includes(channel))).toEqual([]);
  }

  beforeAll(async () => {
    await slack.start();
    redisServer = await startLocalRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    queue = new MigrationQueue(redis);
    const policy = loadPolicy({ environments: { local: { requesters: [ALICE], approvers: ['UBOB'] } } });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const s = createSlackApp({ botToken: 'xoxb-test', signingSecret: SECRET, port, slackApiUrl: slack.url }, log);
    app = s.app;
    s.bind(new ChatService({ redis, queue, policy, transport: s.transport, hosts: async () => hostsFile, log: log.child({ part: 'chat' }) }));
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await queue?.queue.close();
    redis?.disconnect();
    await redisServer?.stop();
    await slack.stop();
  });

  it('accepts a request signed and stamped now, and the chat service answers it', async () => {
    expect(await send(command('CNOW', 'help'))).toBe(200);
    const call = await slack.waitFor(answeredIn('CNOW'), 10_000);
    expect(call.args.replace_original).toBe(false);
    expect(JSON.stringify(call.args.blocks)).toContain('Usage');
    expect(slack.callsOf('chat.postEphemeral').filter((c) => c.args.channel === 'CNOW')).toEqual([]);
  });

  it('accepts a request stamped 4 minutes ahead: within Slack\'s 5-minute window', async () => {
    expect(await send(command('CNEAR', 'help'), { ts: now() + 4 * 60 })).toBe(200);
    await slack.waitFor(answeredIn('CNEAR'), 10_000);
  });

  it('refuses a request stamped 6 minutes ago (Bolt\'s own check), and Bolt\'s warning goes through pino', async () => {
    expect(await send(command('CPAST', 'help'), { ts: now() - 6 * 60 })).toBe(401);
    await expectNeverHandled('CPAST', 'CMARK1');
    const warn = lines.find((l) => l.part === 'bolt' && String(l.msg).includes('stale'));
    expect(warn, 'Bolt logged the stale request through pino').toBeDefined();
    expect(warn!.level).toBe(40);
  });

  it('refuses a request stamped 6 minutes ahead with 401, and logs why', async () => {
    const ts = now() + 6 * 60;
    expect(await send(command('CFUTURE', 'help'), { ts })).toBe(401);
    await expectNeverHandled('CFUTURE', 'CMARK2');
    const line = lines.find((l) => l.msg === 'refused a Slack request stamped in the future');
    expect(line).toMatchObject({ level: 40, path: '/slack/events', timestamp: String(ts), maxSkewSeconds: 300 });
    expect(line!.aheadSeconds).toBeGreaterThanOrEqual(359);
    expect(line!.aheadSeconds).toBeLessThanOrEqual(361);
  });

  it('refuses a forged signature', async () => {
    expect(await send(command('CFORGED', 'help'), { secret: 'not-the-secret' })).toBe(401);
    await expectNeverHandled('CFORGED', 'CMARK3');
  });

  it('refuses a forged signature stamped in the future too', async () => {
    expect(await send(command('CFORGED2', 'help'), { secret: 'not-the-secret', ts: now() + 3600 })).toBe(401);
    await expectNeverHandled('CFORGED2', 'CMARK4');
  });

  it('still serves the custom /healthz route', async () => {
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('ok');
  });

  /** A click on Approve for a request whose stored record is corrupt: ChatService.onAction throws after the ack. */
  async function brokenClick(channel: string, responseUrl?: string): Promise<void> {
    await redis.set(keys.approval('m-broken'), '{not json', 'EX', 60);
    const payload = {
      type: 'block_actions',
      user: { id: 'UBOB' },
      team: { id: 'TFERRY' },
      channel: { id: channel },
      message: { ts: '1.2' },
      container: { type: 'message', message_ts: '1.2', channel_id: channel },
      trigger_id: '1.2.3',
      ...(responseUrl ? { response_url: responseUrl } : {}),
      actions: [{ type: 'button', action_id: 'ferry_approve', value: 'm-broken', block_id: 'b', action_ts: '1' }],
    };
    expect(await send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString())).toBe(200);
  }

  it('sends a failing listener to app.error: logged through pino, and the user told through response_url', async () => {
    await brokenClick('CAPPROVALS', `${slack.url}respond/click`);
    const told = await slack.waitFor((c) => c.method === 'respond/click', 10_000);
    expect(told.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(told.args.text)).toMatch(/^Ferry could not handle that request: /);
    const logged = lines.find((l) => l.msg === 'a Slack request failed');
    expect(logged).toMatchObject({ level: 50, user: 'UBOB', channel: 'CAPPROVALS' });
    expect((logged!.err as { type?: string }).type).toBe('SyntaxError');
  });

  it('tells the user with an ephemeral message where the request has no response_url', async () => {
    await brokenClick('CAPPROVALS2');
    const told = await slack.waitFor(ephemeralTo('CAPPROVALS2'), 10_000);
    expect(told.args.user).toBe('UBOB');
    expect(String(told.args.text)).toMatch(/^Ferry could not handle that request: /);
  });

  it('carries the approval flow over HTTP: ask, self-approval refused privately, a second person approves, the job waits in the queue', async () => {
    await approvalFlow(
      slack,
      {
        command: async (user, text) => void expect(await send(new URLSearchParams(commandFields(slack.url, user, text)).toString())).toBe(200),
        click: async (user, actionId, value, ts) => void expect(await send(new URLSearchParams({ payload: JSON.stringify(clickPayload(slack.url, user, actionId, value, ts)) }).toString())).toBe(200),
      },
      queue,
    );
  });

  it('needs the wrapper: Bolt\'s own receiver accepts the request stamped 6 minutes ahead', async () => {
    const port = await freePort();
    const bare = new App({ token: 'xoxb-test', signingSecret: SECRET, port, clientOptions: { slackApiUrl: slack.url }, logLevel: undefined, logger: createQuietLogger() });
    bare.command('/migrate', async ({ ack }) => ack());
    await bare.start();
    try {
      expect(await send(command('CBARE', 'help'), { ts: now() + 6 * 60, to: `http://127.0.0.1:${port}` })).toBe(200);
    } finally {
      await bare.stop();
    }
  });
});

/** Bolt's Logger interface, silent: the control app above should not print. */
function createQuietLogger() {
  let level = 'error' as never;
  return { debug() {}, info() {}, warn() {}, error() {}, setLevel: (l: never) => void (level = l), getLevel: () => level, setName() {} };
}
