import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { targetHosts } from '../app/group-target.ts';
import { ErrorCode, errorMessage, isFerryError } from '../errors.ts';
import { listContainers } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { probeHost } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import type { MethodRequest } from '../migrate/methods.ts';
import { newMigrationId, subjectFields, subjectText } from '../migrate/request.ts';
import { claimKey, keys, type JobResult, type MigrationJobData } from '../queue/jobs.ts';
import type { MigrationJob, MigrationQueue } from '../queue/MigrationQueue.ts';
import { memoizeFor } from '../util/memo.ts';
import type { ChatRequest, ChatTransport } from './ChatTransport.ts';
import { code, esc } from './core/mrkdwn.ts';
import { parseCommand, type ChatCommand, type ReadCommand } from './core/parse.ts';
import { auditEvent, canApprove, canRequest, canView, environmentOf, migrationEnvironments, viewableEnvironments, viewNothing, type ChatUser, type Policy } from './core/policy.ts';
import {
  ACTION_IDS,
  alreadyMigrating,
  approvalClosed,
  approvalRequest,
  denied,
  hostsTable,
  listTable,
  note,
  slowDown,
  statusMessage,
  usage,
  type ApprovalView,
  type ChatMessage,
  type HostRow,
} from './core/render.ts';
import { queuedStatus, type MigrationStatus, type StatusView } from './core/status.ts';
import { DEFAULT_READ_LIMIT, RedisRateLimiter, type RateLimit } from './RateLimiter.ts';

export interface ChatServiceDeps {
  redis: Redis;
  queue: MigrationQueue;
  policy: Policy;
  transport: ChatTransport;
  hosts: () => Promise<HostsFile>;
  log: Logger;
  /** The clock decisions, expiries and rate limits use. @defaultValue the system clock */
  now?: () => Date;
  /**
   * What `/migrate hosts` shows of each host: reachability, CRIU, kernel, containers.
   * @defaultValue each host probed over SSH (capabilities and containers)
   */
  probeHosts?: (file: HostsFile) => Promise<HostRow[]>;
  /** How long one probe of the hosts answers `/migrate hosts`, so it does not SSH to every host on every call. @defaultValue 30 s */
  hostsCacheMs?: number;
  /** Read commands (`hosts`, `list`, `status`) per person. @defaultValue 5 at once, 10 a minute */
  readLimit?: RateLimit;
}

/** An approval request as Redis keeps it until someone decides it: the card's view, and where it was posted. */
type StoredApproval = ApprovalView & {
  envs: string[];
  dryRun: boolean;
  createdAt: string;
  channel: string;
  ts?: string;
};

/**
 * How long an approval record outlives its expiry. The record is what the expiry sweep needs to mark
 * the message expired, so it stays until a sweep has run, even when no bot was up at the moment it expired.
 */
const APPROVAL_GRACE_S = 24 * 3600;

/** How often the expiry sweep looks for approval requests that ran out. @defaultValue 30 s */
export const EXPIRY_SWEEP_MS = 30_000;

/** BullMQ's job state in the chat's words. */
export function jobStatus(state: string, result?: JobResult | null): MigrationStatus {
  switch (state) {
    case 'active':
      return 'running';
    case 'completed':
      return result && !result.dryRun && ('group' in result ? result.group.outcome : result.report.outcome) === 'rolled-back' ? 'rolled-back' : 'done';
    case 'failed':
      return 'failed';
    default:
      return 'queued';
  }
}

/** Each host's capabilities and containers over SSH, for `/migrate hosts`; a host that does not answer is shown as down. */
export async function probeHostsOverSsh(file: HostsFile): Promise<HostRow[]> {
  return Promise.all(
    file.hosts.map(async (spec) => {
      const known: HostRow = { name: spec.name, environment: spec.environment, address: spec.address, groups: spec.groups };
      const h = new RemoteHost(spec, { defaultTimeoutS: 60 });
      try {
        const [caps, cs] = await Promise.all([probeHost(h), listContainers(h)]);
        return { ...known, reachable: true, criu: caps.criuVersion ?? null, kernel: caps.kernel, preCopy: caps.softDirty, containers: cs.map((x) => x.name) };
      } catch {
        return { ...known, reachable: false };
      } finally {
        h.dispose();
      }
    }),
  );
}

/**
 * The chat side's one core: commands and button clicks in, messages and queue jobs out. Pure
 * decisions come from chat/core; this class does the I/O around them. Every decision is audited.
 * Private answers go through the request's own reply ({@link ChatRequest.respond}) when it has one.
 */
export class ChatService {
  private readonly now: () => Date;
  private readonly limiter: RedisRateLimiter;
  private readonly readLimit: RateLimit;
  /** The probed hosts, with each host's environment as the policy sees it; shared for hostsCacheMs. */
  private readonly probedHosts: () => Promise<HostRow[]>;

  constructor(private readonly d: ChatServiceDeps) {
    this.now = d.now ?? (() => new Date());
    this.readLimit = d.readLimit ?? DEFAULT_READ_LIMIT;
    this.limiter = new RedisRateLimiter(d.redis, keys.readRate, this.readLimit, () => this.now().getTime());
    const probe = d.probeHosts ?? probeHostsOverSsh;
    this.probedHosts = memoizeFor(
      async () => (await probe(await d.hosts())).map((r) => ({ ...r, environment: environmentOf(d.policy, r.name, r.environment) })),
      d.hostsCacheMs ?? 30_000,
      () => this.now().getTime(),
    );
  }

  private audit(e: Parameters<typeof auditEvent>[0]): void {
    this.d.log.info({ audit: auditEvent(e, this.now()) }, 'audit');
  }

  /** A private answer: through the request's own reply when it has one (falling back if that fails), else an ephemeral message. */
  private async tell(r: ChatRequest, msg: ChatMessage): Promise<void> {
    if (r.respond) {
      try {
        return await r.respond(msg);
      } catch (e) {
        this.d.log.warn({ err: errorMessage(e), user: r.user, channel: r.channel }, 'the private reply failed: sending an ephemeral message instead');
      }
    }
    await this.d.transport.ephemeral(r.channel, r.user, msg);
  }

  /**
   * The user with their groups. When the platform cannot say (Slack's usergroups.list failing), this is
   * logged and the decision is made on the user's own ID; `groupsError` lets a denial say why.
   */
  private async userOf(id: string): Promise<{ user: ChatUser; groupsError?: string }> {
    try {
      return { user: { id, groups: await this.d.transport.groupsOf(id) } };
    } catch (e) {
      this.d.log.error({ user: id, err: errorMessage(e), code: (e as { code?: unknown }).code }, 'could not resolve the user\'s groups: deciding on their user ID alone');
      return { user: { id, groups: [] }, groupsError: errorMessage(e) };
    }
  }

  async onCommand(c: ChatRequest & { text: string }): Promise<void> {
    let cmd: ChatCommand;
    try {
      cmd = parseCommand(c.text);
    } catch (e) {
      if (isFerryError(e, ErrorCode.UsageError)) return this.tell(c, usage(e.message));
      throw e;
    }
    try {
      switch (cmd.kind) {
        case 'help':
          return await this.tell(c, usage());
        case 'hosts':
        case 'list':
        case 'status':
          return await this.read(c, cmd);
        case 'cancel':
          return await this.cancel(c, cmd.id);
        case 'migrate':
          return await this.request(c, cmd);
      }
    } catch (e) {
      this.d.log.error({ err: errorMessage(e) }, 'command failed');
      await this.tell(c, note(`:warning: ${esc(errorMessage(e))}`));
    }
  }

  private async request(c: ChatRequest, cmd: Extract<ChatCommand, { kind: 'migrate' }>): Promise<void> {
    const file = await this.d.hosts();
    let envs: string[];
    try {
      envs = migrationEnvironments(this.d.policy, findHost(file, cmd.from), ...targetHosts(file, cmd.to));
    } catch (e) {
      return this.tell(c, usage(errorMessage(e)));
    }
    // A group is decided like a container: the policy looks at the two hosts, whatever moves between them.
    // A target group (`to group:cloud-b`) counts every member's environment: any of them may be picked.
    const what = subjectFields(cmd);
    const subject = { actor: c.user, action: 'request' as const, ...what, from: cmd.from, to: cmd.to };
    const { user, groupsError } = await this.userOf(c.user);
    const decision = canRequest(this.d.policy, user, envs);
    if (!decision.allowed) {
      this.audit({ ...subject, action: 'deny', decision });
      return this.tell(c, denied(decision.reason, { groupsError }));
    }
    const active = cmd.dryRun ? null : await this.d.redis.get(claimKey(what));
    if (active) return this.tell(c, alreadyMigrating(subjectText(what), active));
    const id = newMigrationId(this.now());
    const created = this.now();
    const view: StoredApproval = {
      id,
      requesterId: c.user,
      ...what,
      from: cmd.from,
      to: cmd.to,
      method: cmd.method,
      dryRun: cmd.dryRun,
      envs,
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + this.d.policy.approvalTtlMinutes * 60_000),
      channel: c.channel,
    };
    const ts = await this.d.transport.post(c.channel, approvalRequest(view));
    view.ts = ts;
    // The index lets the expiry sweep find the request when it runs out; the record outlives that moment
    // (the policy's TTL decides expiry, not Redis) so the sweep can still mark its message.
    const ttlS = Math.ceil(this.d.policy.approvalTtlMinutes * 60);
    await this.d.redis.multi().set(keys.approval(id), JSON.stringify(view), 'EX', ttlS + APPROVAL_GRACE_S).zadd(keys.approvals, view.expiresAt!.getTime(), id).exec();
    this.audit({ ...subject, migrationId: id, outcome: 'ok' });
  }

  /** Takes an approval request out of Redis for whoever decides it: exactly one caller gets the record. */
  private async claim(id: string): Promise<StoredApproval | null> {
    const r = await this.d.redis.multi().getdel(keys.approval(id)).zrem(keys.approvals, id).exec();
    const raw = r?.[0]?.[1];
    return typeof raw === 'string' ? parseApproval(raw) : null;
  }

  async onAction(a: ChatRequest & { actionId: string; value: string; messageTs?: string }): Promise<void> {
    const raw = await this.d.redis.get(keys.approval(a.value));
    if (!raw) {
      return this.tell(a, note(`Request ${code(a.value)} is no longer open: it was approved, rejected or expired (approvals last ${this.d.policy.approvalTtlMinutes} minutes).`));
    }
    const req = parseApproval(raw);
    const subject = { actor: a.user, migrationId: req.id, ...subjectFields(req), from: req.from, to: req.to };
    const { user, groupsError } = await this.userOf(a.user);
    if (a.actionId === ACTION_IDS.reject) {
      // The requester may withdraw; otherwise rejecting takes an approver's rights.
      if (a.user !== req.requesterId) {
        const d = canApprove(this.d.policy, user, { requesterId: req.requesterId, envs: req.envs, createdAt: req.createdAt }, this.now());
        if (!d.allowed && d.code !== 'expired') {
          this.audit({ ...subject, action: 'deny', decision: d });
          return this.tell(a, denied(d.reason, { groupsError }));
        }
      }
      if ((await this.claim(req.id)) === null) return;
      await this.d.transport.update(req.channel, req.ts ?? a.messageTs ?? '', approvalClosed(req, { status: 'rejected', by: a.user }));
      this.audit({ ...subject, action: 'reject', outcome: 'ok' });
      return;
    }
    if (a.actionId !== ACTION_IDS.approve) return;
    const decision = canApprove(this.d.policy, user, { requesterId: req.requesterId, envs: req.envs, createdAt: req.createdAt }, this.now());
    if (!decision.allowed) {
      this.audit({ ...subject, action: 'deny', decision });
      // A click on an expired request closes it now rather than at the next sweep.
      if (decision.code === 'expired') await this.closeExpired(req.id);
      return this.tell(a, denied(decision.reason, { groupsError }));
    }
    // Claim atomically: two approvers clicking at once must not enqueue twice.
    if ((await this.claim(req.id)) === null) {
      return this.tell(a, note(`Request ${code(req.id)} was already handled.`));
    }
    const data: MigrationJobData = {
      id: req.id,
      ...subjectFields(req),
      from: req.from,
      to: req.to,
      method: req.method as MethodRequest,
      dryRun: req.dryRun,
      requestedBy: req.requesterId,
      approvedBy: a.user,
      requestedAt: req.createdAt,
      thread: { channel: req.channel, statusTs: req.ts },
      envs: req.envs,
    };
    try {
      await this.d.queue.enqueue(data);
    } catch (e) {
      if (isFerryError(e, ErrorCode.AlreadyMigrating)) {
        await this.d.transport.update(req.channel, req.ts!, approvalClosed(req, { status: 'cancelled', by: a.user }));
        return void (await this.d.transport.post(req.channel, alreadyMigrating(subjectText(data), String(e.details?.existingId ?? 'unknown')), req.ts));
      }
      throw e;
    }
    this.audit({ ...subject, action: 'approve', outcome: 'ok' });
    // The approval message becomes the job's live status.
    const st: StatusView = queuedStatus({ ...data, requesterId: data.requestedBy, approverId: a.user });
    await this.d.transport.update(req.channel, req.ts!, statusMessage(st));
  }

  /** Marks an expired request's message as expired, once (whichever replica claims it); false when someone else did. */
  private async closeExpired(id: string): Promise<boolean> {
    const req = await this.claim(id);
    if (!req) return false;
    if (req.ts) await this.d.transport.update(req.channel, req.ts, approvalClosed(req, { status: 'expired' }));
    this.audit({ actor: 'ferry', action: 'deny', migrationId: req.id, ...subjectFields(req), from: req.from, to: req.to, outcome: 'denied', reason: 'the approval request expired unanswered' });
    return true;
  }

  /** Closes every approval request whose time ran out (its message says so); returns how many this call closed. */
  async sweepExpired(): Promise<number> {
    // Strictly before now: a request is open up to and including its expiry (canApprove's rule).
    const due = await this.d.redis.zrangebyscore(keys.approvals, '-inf', `(${this.now().getTime()}`);
    let closed = 0;
    for (const id of due) {
      try {
        if (await this.closeExpired(id)) closed++;
      } catch (e) {
        this.d.log.warn({ migration: id, err: errorMessage(e) }, 'could not mark an expired approval request');
      }
    }
    return closed;
  }

  /** Runs {@link sweepExpired} every `everyMs` until stopped. */
  startExpirySweep(everyMs = EXPIRY_SWEEP_MS): { stop(): void } {
    const timer = setInterval(() => {
      this.sweepExpired().catch((e) => this.d.log.warn({ err: errorMessage(e) }, 'expiry sweep failed'));
    }, everyMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async cancel(c: ChatRequest, id: string): Promise<void> {
    const job = await this.d.queue.get(id);
    if (!job) return this.tell(c, note(`No migration ${code(id)}.`));
    const file = await this.d.hosts();
    const envs = migrationEnvironments(this.d.policy, findHost(file, job.data.from), ...targetHosts(file, job.data.to));
    const { user, groupsError } = await this.userOf(c.user);
    const allowed = c.user === job.data.requestedBy || canRequest(this.d.policy, user, envs).allowed;
    if (!allowed) return this.tell(c, denied(`you may not cancel migration ${id}`, { groupsError }));
    const r = await this.d.queue.cancel(id);
    this.audit({ actor: c.user, action: 'cancel', migrationId: id, ...subjectFields(job.data), outcome: r.ok ? 'ok' : 'error', reason: r.message });
    await this.d.transport.post(c.channel, note(esc(r.message)), job.data.thread?.statusTs);
  }

  /**
   * `hosts`, `list`, `status`: rate-limited per person, limited to the environments the policy lets them
   * see, answered privately unless the command asked for `public` (a refusal is always private).
   */
  private async read(c: ChatRequest, cmd: ReadCommand): Promise<void> {
    const rate = await this.limiter.take(c.user);
    if (!rate.allowed) {
      this.d.log.info({ user: c.user, command: cmd.kind, retryAfterMs: rate.retryAfterMs }, 'read command rate-limited');
      return this.tell(c, slowDown(rate.retryAfterMs, this.readLimit));
    }
    const { user, groupsError } = await this.userOf(c.user);
    const visible = viewableEnvironments(this.d.policy, user);
    if (visible.length === 0) {
      return this.tell(c, denied(viewNothing(this.d.policy).reason, { groupsError }));
    }
    const answer: Answer = cmd.kind === 'hosts' ? await this.hostsMessage(visible) : cmd.kind === 'list' ? await this.listMessage(visible) : await this.statusOf(cmd.id, user, visible, groupsError);
    if (cmd.public && !answer.refused) await this.d.transport.post(c.channel, answer.msg);
    else await this.tell(c, answer.msg);
  }

  private async hostsMessage(visible: string[]): Promise<Answer> {
    const rows = (await this.probedHosts()).filter((r) => visible.includes(r.environment));
    if (rows.length === 0) return { msg: note(`None of the inventory's hosts is in an environment you may see (${visible.map(esc).join(', ')}).`) };
    return { msg: hostsTable(rows) };
  }

  /** The environments a migration touches: as recorded at approval, else from the hosts as they are now; null when unknown. */
  private async jobEnvs(job: MigrationJob, file?: HostsFile): Promise<string[] | null> {
    if (job.data.envs?.length) return job.data.envs;
    try {
      const f = file ?? (await this.d.hosts());
      return migrationEnvironments(this.d.policy, findHost(f, job.data.from), ...targetHosts(f, job.data.to));
    } catch {
      return null;
    }
  }

  /** Recent jobs the user may see: every environment they touch must be one of `visible`. */
  private async visibleJobs(visible: string[], limit: number): Promise<MigrationJob[]> {
    const file = await this.d.hosts().catch(() => undefined);
    const out: MigrationJob[] = [];
    for (const j of await this.d.queue.recent(200)) {
      const envs = await this.jobEnvs(j, file);
      if (envs && envs.every((e) => visible.includes(e))) out.push(j);
      if (out.length >= limit) break;
    }
    return out;
  }

  private async listMessage(visible: string[]): Promise<Answer> {
    const jobs = await this.visibleJobs(visible, 15);
    const rows = await Promise.all(
      jobs.map(async (j) => ({ id: j.id!, ...subjectFields(j.data), from: j.data.from, to: j.data.to, status: jobStatus(await j.getState(), j.returnvalue), method: j.data.method, createdAt: new Date(j.timestamp) })),
    );
    return { msg: listTable(rows) };
  }

  private async statusOf(id: string | undefined, user: ChatUser, visible: string[], groupsError?: string): Promise<Answer> {
    let job: MigrationJob | undefined;
    if (id) {
      job = await this.d.queue.get(id);
      if (!job) return { msg: note(`No migration ${code(id)}.`) };
      const envs = await this.jobEnvs(job);
      const d = envs ? canView(this.d.policy, user, envs) : null;
      if (!d?.allowed) {
        const reason = d && !d.allowed ? d.reason : `Ferry cannot tell which environments migration ${id} touches (its hosts are no longer in the inventory), so it shows it to no one`;
        return { msg: denied(reason, { groupsError }), refused: true };
      }
    } else {
      job = (await this.visibleJobs(visible, 1))[0];
      if (!job) return { msg: note('No migrations yet.') };
    }
    const saved = await this.d.redis.get(`ferry:status:${job.id}`);
    const st: StatusView = saved ? (JSON.parse(saved) as StatusView) : queuedStatus({ ...job.data, requesterId: job.data.requestedBy, approverId: job.data.approvedBy });
    return { msg: statusMessage(st) };
  }
}

/** A read command's answer; a refusal stays private even when `public` was asked. */
interface Answer {
  msg: ChatMessage;
  refused?: boolean;
}

function parseApproval(raw: string): StoredApproval {
  const req = JSON.parse(raw) as StoredApproval;
  req.expiresAt = req.expiresAt ? new Date(req.expiresAt) : undefined;
  return req;
}
