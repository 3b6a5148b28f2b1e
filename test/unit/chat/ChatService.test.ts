import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatService, type ChatServiceDeps } from '../../../src/chat/ChatService.ts';
import type { ChatRequest, ChatTransport } from '../../../src/chat/ChatTransport.ts';
import { toConsoleText } from '../../../src/chat/core/console-render.ts';
import { loadPolicy } from '../../../src/chat/core/policy.ts';
import type { ChatMessage, HostRow } from '../../../src/chat/core/render.ts';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import type { HostsFile } from '../../../src/hosts/inventory.ts';
import { keys } from '../../../src/queue/jobs.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import { redisMissing } from '../helpers/redis.ts';

/**
 * The chat service against a real Redis this test starts (a random port, stopped at the end) and a real
 * BullMQ queue. Two stand-ins, for what cannot exist here: the chat platform (a transport recording what
 * Ferry would have posted; Slack's servers cannot exist here) and the SSH hosts behind `/migrate hosts`
 * (they need the lab, which unit tests do not bring up; test/lab probes real ones).
 */

const why = redisMissing();
if (why) console.warn(`SKIPPED ChatService against Redis: ${why}`);

const ALICE = 'UALICE';
const BOB = 'UBOB';
const CAROL = 'UCAROL'; // in group S0WATCH: a viewer of aws only
const MALLORY = 'UMALLORY';

const policy = loadPolicy({
  environments: {
    lab: { requesters: [ALICE], approvers: [BOB] },
    aws: { requesters: [ALICE], approvers: [BOB], viewers: [ALICE, BOB, 'S0WATCH'] },
  },
  approvalTtlMinutes: 15,
});

const spec = (name: string, environment: string, i: number, groups: string[] = []) => ({
  name,
  address: `10.99.0.${i}`,
  port: 22,
  user: 'root',
  privateKeyFile: '/nonexistent/key',
  hostKey: 'ssh-ed25519 AAAA',
  environment,
  groups,
});
const hostsFile: HostsFile = {
  environment: 'lab',
  knownHostsFile: '/nonexistent/known_hosts',
  inventoryFile: '/nonexistent/inventory.ini',
  hosts: [spec('lab-1', 'lab', 2, ['ferry']), spec('lab-2', 'lab', 3, ['ferry', 'cloud']), spec('aws-1', 'aws', 4, ['cloud'])],
};

interface Sent {
  kind: 'post' | 'update' | 'ephemeral' | 'respond';
  channel?: string;
  user?: string;
  ts?: string;
  text: string;
  msg: ChatMessage;
}

/** The chat platform's stand-in: records every message, in console text for easy matching. */
class RecordingTransport implements ChatTransport {
  sent: Sent[] = [];
  groupsFail = false;
  private ts = 0;
  async post(channel: string, msg: ChatMessage): Promise<string> {
    const ts = `${++this.ts}.0`;
    this.sent.push({ kind: 'post', channel, ts, text: toConsoleText(msg), msg });
    return ts;
  }
  async update(channel: string, ts: string, msg: ChatMessage): Promise<void> {
    this.sent.push({ kind: 'update', channel, ts, text: toConsoleText(msg), msg });
  }
  async ephemeral(channel: string, user: string, msg: ChatMessage): Promise<void> {
    this.sent.push({ kind: 'ephemeral', channel, user, text: toConsoleText(msg), msg });
  }
  async upload(): Promise<void> {}
  async groupsOf(user: string): Promise<string[]> {
    if (this.groupsFail) throw new FerryError(ErrorCode.GroupsUnavailable, "Slack's usergroups.list failed: An API error occurred: ratelimited");
    return user === CAROL ? ['S0WATCH'] : [];
  }
  /** A request from `user` whose private answers are recorded as `respond`. */
  from(user: string, channel = 'COPS'): ChatRequest {
    return { user, channel, respond: async (msg) => void this.sent.push({ kind: 'respond', user, channel, text: toConsoleText(msg), msg }) };
  }
  last(kind?: Sent['kind']): Sent {
    const s = kind ? this.sent.filter((x) => x.kind === kind) : this.sent;
    return s.at(-1)!;
  }
}

function capturedLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }), lines };
}

describe.skipIf(why !== null)('ChatService with Redis', () => {
  let server: LocalRedis;
  let redis: Redis;
  let queue: MigrationQueue;
  let t: RecordingTransport;
  let clock: number;
  let probes: number;
  let logged: Record<string, unknown>[];

  const probe = async (file: HostsFile): Promise<HostRow[]> => {
    probes++;
    return file.hosts.map((h) => ({ name: h.name, environment: h.environment, address: h.address, reachable: true, criu: '4.2.1', containers: [] }));
  };

  function service(over: Partial<ChatServiceDeps> = {}): ChatService {
    const { log, lines } = capturedLog();
    logged = lines;
    return new ChatService({ redis, queue, policy, transport: t, hosts: async () => hostsFile, log, now: () => new Date(clock), probeHosts: probe, ...over });
  }

  beforeAll(async () => {
    server = await startLocalRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new MigrationQueue(redis);
  });

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.stop();
  });

  beforeEach(async () => {
    await redis.flushall();
    t = new RecordingTransport();
    clock = Date.parse('2026-03-01T12:00:00Z');
    probes = 0;
  });

  /** Alice asks to move web1; returns the request's id and its message's ts. */
  async function requestMigration(s: ChatService, route = 'web1 from lab-1 to lab-2'): Promise<{ id: string; ts: string }> {
    await s.onCommand({ ...t.from(ALICE), text: route });
    const post = t.last('post');
    const id = /\/approve (m-[a-z0-9-]+)/.exec(post.text)![1]!;
    return { id, ts: post.ts! };
  }

  describe('private answers', () => {
    it('answers help and usage errors through the request\'s own reply, not as a channel message', async () => {
      const s = service();
      await s.onCommand({ ...t.from(ALICE), text: 'help' });
      await s.onCommand({ ...t.from(ALICE), text: 'web1 form lab-1 to lab-2' });
      expect(t.sent.map((x) => x.kind)).toEqual(['respond', 'respond']);
      expect(t.sent[1]!.text).toContain("expected 'from <host>' after 'web1', got 'form'");
    });

    it('falls back to an ephemeral message when the private reply fails, and logs it', async () => {
      const s = service();
      await s.onCommand({ user: ALICE, channel: 'COPS', text: 'help', respond: async () => Promise.reject(new Error('expired_url')) });
      expect(t.last()).toMatchObject({ kind: 'ephemeral', user: ALICE, channel: 'COPS' });
      expect(logged.find((l) => l.msg === 'the private reply failed: sending an ephemeral message instead')).toMatchObject({ err: 'expired_url', user: ALICE });
    });

    it('uses the transport\'s ephemeral message for requests without a reply of their own (the console)', async () => {
      const s = service();
      await s.onCommand({ user: ALICE, channel: 'console', text: 'help' });
      expect(t.last()).toMatchObject({ kind: 'ephemeral', user: ALICE });
    });
  });

  describe('read commands', () => {
    it('answers list, status and hosts privately unless asked public', async () => {
      const s = service();
      for (const text of ['list', 'status', 'hosts']) await s.onCommand({ ...t.from(ALICE), text });
      expect(t.sent.map((x) => x.kind)).toEqual(['respond', 'respond', 'respond']);
      await s.onCommand({ ...t.from(ALICE), text: 'hosts public' });
      expect(t.last()).toMatchObject({ kind: 'post', channel: 'COPS' });
      expect(t.last().text).toContain('lab-1');
    });

    it('refuses someone who is no viewer anywhere, privately even when they asked public', async () => {
      const s = service();
      await s.onCommand({ ...t.from(MALLORY), text: 'hosts public' });
      expect(t.sent).toHaveLength(1);
      expect(t.last()).toMatchObject({ kind: 'respond', user: MALLORY });
      expect(t.last().text).toMatch(/Not allowed: you may not see Ferry's hosts or migrations/);
      expect(probes).toBe(0);
    });

    it('shows a viewer only the hosts and migrations of the environments they may see', async () => {
      const s = service();
      await s.onCommand({ ...t.from(CAROL), text: 'hosts' });
      expect(t.last().text).toContain('aws-1');
      expect(t.last().text).not.toContain('lab-1');

      const { id } = await requestMigration(s);
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id });
      expect(await queue.get(id)).toBeDefined();
      await s.onCommand({ ...t.from(ALICE), text: 'list' });
      expect(t.last().text).toContain(id);
      await s.onCommand({ ...t.from(CAROL), text: 'list' });
      expect(t.last().text).toContain('No migrations queued or running');
      await s.onCommand({ ...t.from(CAROL), text: `status ${id} public` });
      expect(t.last()).toMatchObject({ kind: 'respond', user: CAROL });
      expect(t.last().text).toMatch(/Not allowed: you may not see hosts and migrations in environment 'lab'/);
      await s.onCommand({ ...t.from(BOB), text: `status ${id}` });
      expect(t.last().text).toContain(id);
    });

    it('probes the hosts at most once per 30 s, however often someone asks', async () => {
      const s = service({ readLimit: { burst: 100, perMinute: 600 } });
      await s.onCommand({ ...t.from(ALICE), text: 'hosts' });
      await s.onCommand({ ...t.from(BOB), text: 'hosts' });
      await s.onCommand({ ...t.from(CAROL), text: 'hosts' });
      expect(probes).toBe(1);
      clock += 29_999;
      await s.onCommand({ ...t.from(ALICE), text: 'hosts' });
      expect(probes).toBe(1);
      clock += 1;
      await s.onCommand({ ...t.from(ALICE), text: 'hosts' });
      expect(probes).toBe(2);
    });

    it('rate-limits each person with a token bucket shared through Redis', async () => {
      const limit = { burst: 2, perMinute: 6 }; // one token every 10 s
      const a = service({ readLimit: limit });
      const b = service({ readLimit: limit }); // a second bot replica
      await a.onCommand({ ...t.from(ALICE), text: 'list' });
      await b.onCommand({ ...t.from(ALICE), text: 'list' });
      await a.onCommand({ ...t.from(ALICE), text: 'list' });
      expect(t.last().text).toBe('⌛ You are asking faster than Ferry answers: 6 read commands a minute per person (2 at once). Try again in 10 s.');
      await b.onCommand({ ...t.from(BOB), text: 'list' }); // someone else is not held back
      expect(t.last().text).toContain('No migrations');
      clock += 9_000;
      await b.onCommand({ ...t.from(ALICE), text: 'list' });
      expect(t.last().text).toContain('Try again in 1 s');
      clock += 1_000;
      await a.onCommand({ ...t.from(ALICE), text: 'list' });
      expect(t.last().text).toContain('No migrations');
    });
  });

  describe('approvals', () => {
    it('refuses self-approval privately; a second person\'s approval enqueues the job and turns the request into its status', async () => {
      const s = service();
      const { id, ts } = await requestMigration(s);
      await s.onAction({ ...t.from(ALICE), actionId: 'ferry_approve', value: id, messageTs: ts });
      expect(t.last()).toMatchObject({ kind: 'respond', user: ALICE });
      expect(t.last().text).toMatch(/yourself/);
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id, messageTs: ts });
      const job = await queue.get(id);
      expect(job?.data).toMatchObject({ container: 'web1', from: 'lab-1', to: 'lab-2', requestedBy: ALICE, approvedBy: BOB, envs: ['lab'] });
      expect(t.last()).toMatchObject({ kind: 'update', ts });
      expect(await redis.zcard(keys.approvals)).toBe(0);
    });

    it("enqueues a target group as asked for, decided on every member's environment", async () => {
      const s = service();
      const { id, ts } = await requestMigration(s, 'web1 from lab-1 to group:cloud');
      expect(t.last('post').text).toContain('asks to move web1 from lab-1 to group:cloud with method auto');
      expect(t.last('post').text).toContain('Environments: lab, aws');
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id, messageTs: ts });
      // The worker picks the member when it runs: the signed job carries the group, and both environments a pick may touch.
      expect((await queue.get(id))?.data).toMatchObject({ container: 'web1', from: 'lab-1', to: 'group:cloud', envs: ['lab', 'aws'] });
      expect(t.last()).toMatchObject({ kind: 'update', ts });
      expect(t.last().text).toContain('group:cloud');
    });

    it('refuses an unknown target group privately, with the closest names', async () => {
      const s = service();
      await s.onCommand({ ...t.from(ALICE), text: 'web1 from lab-1 to group:clod' });
      expect(t.sent).toHaveLength(1);
      expect(t.last()).toMatchObject({ kind: 'respond', user: ALICE });
      expect(t.last().text).toContain("unknown group 'clod': did you mean group:cloud?");
    });

    it('closes a second approved request for a container already queued, naming the migration that holds it (the queue refuses it by code)', async () => {
      const s = service();
      const first = await requestMigration(s);
      const second = await requestMigration(s);
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: first.id, messageTs: first.ts });
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: second.id, messageTs: second.ts });
      expect(await queue.get(second.id)).toBeUndefined();
      const closed = t.sent.filter((x) => x.kind === 'update' && x.ts === second.ts);
      expect(closed).toHaveLength(1);
      expect(t.last()).toMatchObject({ kind: 'post', channel: 'COPS' });
      expect(t.last().text).toContain(`web1 is already being migrated (migration ${first.id})`);
    });

    it('marks an expired request\'s message expired, once, whichever replica sweeps', async () => {
      const a = service();
      const b = service();
      const { id, ts } = await requestMigration(a);
      expect(await a.sweepExpired()).toBe(0);
      clock += 15 * 60_000; // open up to and including its expiry
      expect(await a.sweepExpired()).toBe(0);
      clock += 1;
      const [n1, n2] = await Promise.all([a.sweepExpired(), b.sweepExpired()]);
      expect(n1 + n2).toBe(1);
      const updates = t.sent.filter((x) => x.kind === 'update');
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatchObject({ ts, channel: 'COPS' });
      expect(updates[0]!.text).toContain('Expired without approval');
      expect(updates[0]!.text).not.toContain('/approve');
      await b.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id });
      expect(t.last().text).toMatch(/no longer open/);
      expect(await queue.get(id)).toBeUndefined();
    });

    it('closes an expired request at the click, before any sweep, and says why', async () => {
      const s = service();
      const { id, ts } = await requestMigration(s);
      clock += 16 * 60_000;
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id, messageTs: ts });
      expect(t.sent.filter((x) => x.kind === 'update').map((x) => x.ts)).toEqual([ts]);
      expect(t.last()).toMatchObject({ kind: 'respond', user: BOB });
      expect(t.last().text).toMatch(/this request expired: it was made 16 min ago/);
      expect(await s.sweepExpired()).toBe(0);
      expect(await queue.get(id)).toBeUndefined();
    });

    it('runs a group through the same policy and two-person approval, and queues a job naming the group (no container), claiming the group', async () => {
      const s = service();
      await s.onCommand({ ...t.from(MALLORY), text: 'group blog from lab-1 to lab-2' });
      expect(t.last()).toMatchObject({ kind: 'respond', user: MALLORY });
      expect(t.last().text).toMatch(/Not allowed: you may not request migrations in environment 'lab'/);

      const { id, ts } = await requestMigration(s, 'group blog from lab-1 to lab-2 method page-server');
      const card = t.sent.find((x) => x.kind === 'post' && x.ts === ts)!;
      expect(card.text).toContain('asks to move group blog from lab-1 to lab-2 with method page-server (Page Server).');
      expect(card.text).toContain('A group: every container of blog running on lab-1 moves');
      expect(logged.find((l) => (l.audit as { action?: string } | undefined)?.action === 'request')?.audit).toMatchObject({ actor: ALICE, group: 'blog', from: 'lab-1', to: 'lab-2', outcome: 'ok' });

      await s.onAction({ ...t.from(ALICE), actionId: 'ferry_approve', value: id, messageTs: ts });
      expect(t.last().text).toMatch(/yourself/);
      expect(await queue.get(id)).toBeUndefined();
      await s.onAction({ ...t.from(BOB), actionId: 'ferry_approve', value: id, messageTs: ts });
      const job = await queue.get(id);
      expect(job?.data).toMatchObject({ id, group: 'blog', from: 'lab-1', to: 'lab-2', method: 'page-server', dryRun: false, requestedBy: ALICE, approvedBy: BOB, envs: ['lab'] });
      expect(job?.data).not.toHaveProperty('container');
      expect(await redis.get(keys.activeGroup('blog'))).toBe(id);
      expect(await redis.get(keys.active('blog'))).toBeNull();
      expect(t.last()).toMatchObject({ kind: 'update', ts });
      expect(t.last().text).toContain('group blog lab-1 → lab-2: queued');
      expect(logged.find((l) => (l.audit as { action?: string } | undefined)?.action === 'approve')?.audit).toMatchObject({ actor: BOB, migrationId: id, group: 'blog' });

      // While it is queued or running, the group cannot be asked for again; its status and the list name it.
      await s.onCommand({ ...t.from(ALICE), text: 'group blog from lab-1 to lab-2' });
      expect(t.last()).toMatchObject({ kind: 'respond', user: ALICE });
      expect(t.last().text).toContain(`group blog is already being migrated (migration ${id})`);
      await s.onCommand({ ...t.from(ALICE), text: 'list' });
      expect(t.last().text).toMatch(new RegExp(`${id}\\s+group blog\\s+lab-1 → lab-2\\s+queued`));
      await s.onCommand({ ...t.from(ALICE), text: `cancel ${id}` });
      expect(t.last().text).toContain(`migration ${id} cancelled before it started; group blog stays on lab-1`);
      expect(await redis.get(keys.activeGroup('blog'))).toBeNull();
    });

    it('tells the requester and logs when their user groups cannot be read', async () => {
      const groupOnly = loadPolicy({ environments: { lab: { requesters: ['S0OPS'], approvers: [BOB] } } });
      const s = service({ policy: groupOnly });
      t.groupsFail = true;
      await s.onCommand({ ...t.from(ALICE), text: 'web1 from lab-1 to lab-2' });
      expect(t.last()).toMatchObject({ kind: 'respond', user: ALICE });
      expect(t.last().text).toMatch(/Not allowed: you may not request migrations in environment 'lab'/);
      expect(t.last().text).toMatch(/could not read your user groups \(Slack's usergroups\.list failed: An API error occurred: ratelimited\)/);
      expect(logged.find((l) => l.msg === "could not resolve the user's groups: deciding on their user ID alone")).toMatchObject({ level: 50, user: ALICE, code: 'ferry_groups_unavailable' });
    });
  });
});
