import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { listContainers } from '../hosts/containers.ts';
import { probeHost } from '../hosts/probe.ts';
import { withHosts } from '../hosts/session.ts';
import { newMigrationId } from '../migrate/request.ts';
import type { MethodRequest } from '../migrate/methods.ts';
import { keys, type JobResult, type MigrationJobData } from '../queue/jobs.ts';
import { AlreadyMigratingError, type MigrationQueue } from '../queue/MigrationQueue.ts';
import type { ChatTransport } from './ChatTransport.ts';
import { isChatError } from './core/errors.ts';
import { code, esc } from './core/mrkdwn.ts';
import { parseCommand, type ChatCommand } from './core/parse.ts';
import { auditEvent, canApprove, canRequest, migrationEnvironments, type Policy } from './core/policy.ts';
import { ACTION_IDS, alreadyMigrating, approvalClosed, approvalRequest, denied, hostsTable, listTable, note, statusMessage, usage, type ApprovalView, type ChatMessage } from './core/render.ts';
import { queuedStatus, type MigrationStatus, type StatusView } from './core/status.ts';

export interface ChatServiceDeps {
  redis: Redis;
  queue: MigrationQueue;
  policy: Policy;
  transport: ChatTransport;
  hosts: () => Promise<HostsFile>;
  log: Logger;
  now?: () => Date;
}

interface StoredApproval extends ApprovalView {
  envs: string[];
  dryRun: boolean;
  createdAt: string;
  channel: string;
  ts?: string;
}

/** BullMQ's job state in the chat's words. */
export function jobStatus(state: string, result?: JobResult | null): MigrationStatus {
  switch (state) {
    case 'active':
      return 'running';
    case 'completed':
      return result && !result.dryRun && result.report.outcome === 'rolled-back' ? 'rolled-back' : 'done';
    case 'failed':
      return 'failed';
    default:
      return 'queued';
  }
}

/**
 * The chat side's one core: commands and button clicks in, messages and queue jobs out. Pure
 * decisions come from chat/core; this class does the I/O around them. Every decision is audited.
 */
export class ChatService {
  private readonly now: () => Date;

  constructor(private readonly d: ChatServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  private audit(e: Parameters<typeof auditEvent>[0]): void {
    this.d.log.info({ audit: auditEvent(e, this.now()) }, 'audit');
  }

  async onCommand(c: { user: string; channel: string; text: string }): Promise<void> {
    let cmd: ChatCommand;
    try {
      cmd = parseCommand(c.text);
    } catch (e) {
      if (isChatError(e)) return this.d.transport.ephemeral(c.channel, c.user, usage(e.message));
      throw e;
    }
    try {
      switch (cmd.kind) {
        case 'help':
          return await this.d.transport.ephemeral(c.channel, c.user, usage());
        case 'hosts':
          return void (await this.d.transport.post(c.channel, await this.hostsMessage()));
        case 'list':
          return void (await this.d.transport.post(c.channel, await this.listMessage()));
        case 'status':
          return void (await this.d.transport.post(c.channel, await this.statusOf(cmd.id)));
        case 'cancel':
          return await this.cancel(c, cmd.id);
        case 'migrate':
          return await this.request(c, cmd);
      }
    } catch (e) {
      this.d.log.error({ err: errorMessage(e) }, 'command failed');
      await this.d.transport.ephemeral(c.channel, c.user, note(`:warning: ${esc(errorMessage(e))}`));
    }
  }

  private async request(c: { user: string; channel: string }, cmd: Extract<ChatCommand, { kind: 'migrate' }>): Promise<void> {
    const file = await this.d.hosts();
    let envs: string[];
    try {
      envs = migrationEnvironments(this.d.policy, findHost(file, cmd.from), findHost(file, cmd.to));
    } catch (e) {
      return this.d.transport.ephemeral(c.channel, c.user, usage(errorMessage(e)));
    }
    const subject = { actor: c.user, action: 'request' as const, container: cmd.container, from: cmd.from, to: cmd.to };
    const decision = canRequest(this.d.policy, { id: c.user, groups: await this.d.transport.groupsOf(c.user) }, envs);
    if (!decision.allowed) {
      this.audit({ ...subject, action: 'deny', decision });
      return this.d.transport.ephemeral(c.channel, c.user, denied(decision.reason));
    }
    const active = cmd.dryRun ? null : await this.d.redis.get(keys.active(cmd.container));
    if (active) return this.d.transport.ephemeral(c.channel, c.user, alreadyMigrating(cmd.container, active));
    const id = newMigrationId(this.now());
    const created = this.now();
    const view: StoredApproval = {
      id,
      requesterId: c.user,
      container: cmd.container,
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
    await this.d.redis.set(keys.approval(id), JSON.stringify(view), 'EX', this.d.policy.approvalTtlMinutes * 60);
    this.audit({ ...subject, migrationId: id, outcome: 'ok' });
  }

  async onAction(a: { user: string; channel: string; actionId: string; value: string; messageTs?: string }): Promise<void> {
    const raw = await this.d.redis.get(keys.approval(a.value));
    if (!raw) {
      return this.d.transport.ephemeral(a.channel, a.user, note(`Request ${code(a.value)} is no longer open: it was approved, rejected or expired (approvals last ${this.d.policy.approvalTtlMinutes} minutes).`));
    }
    const req = JSON.parse(raw) as StoredApproval;
    req.expiresAt = req.expiresAt ? new Date(req.expiresAt) : undefined;
    const subject = { actor: a.user, migrationId: req.id, container: req.container, from: req.from, to: req.to };
    const user = { id: a.user, groups: await this.d.transport.groupsOf(a.user) };
    if (a.actionId === ACTION_IDS.reject) {
      // The requester may withdraw; otherwise rejecting takes an approver's rights.
      if (a.user !== req.requesterId) {
        const d = canApprove(this.d.policy, user, { requesterId: req.requesterId, envs: req.envs, createdAt: req.createdAt }, this.now());
        if (!d.allowed && d.code !== 'expired') {
          this.audit({ ...subject, action: 'deny', decision: d });
          return this.d.transport.ephemeral(a.channel, a.user, denied(d.reason));
        }
      }
      if ((await this.d.redis.getdel(keys.approval(req.id))) === null) return;
      await this.d.transport.update(req.channel, req.ts ?? a.messageTs ?? '', approvalClosed(req, { status: 'rejected', by: a.user }));
      this.audit({ ...subject, action: 'reject', outcome: 'ok' });
      return;
    }
    if (a.actionId !== ACTION_IDS.approve) return;
    const decision = canApprove(this.d.policy, user, { requesterId: req.requesterId, envs: req.envs, createdAt: req.createdAt }, this.now());
    if (!decision.allowed) {
      this.audit({ ...subject, action: 'deny', decision });
      return this.d.transport.ephemeral(a.channel, a.user, denied(decision.reason));
    }
    // Claim atomically: two approvers clicking at once must not enqueue twice.
    if ((await this.d.redis.getdel(keys.approval(req.id))) === null) {
      return this.d.transport.ephemeral(a.channel, a.user, note(`Request ${code(req.id)} was already handled.`));
    }
    const data: MigrationJobData = {
      id: req.id,
      container: req.container,
      from: req.from,
      to: req.to,
      method: req.method as MethodRequest,
      dryRun: req.dryRun,
      requestedBy: req.requesterId,
      approvedBy: a.user,
      requestedAt: req.createdAt,
      thread: { channel: req.channel, statusTs: req.ts },
    };
    try {
      await this.d.queue.enqueue(data);
    } catch (e) {
      if (e instanceof AlreadyMigratingError) {
        await this.d.transport.update(req.channel, req.ts!, approvalClosed(req, { status: 'cancelled', by: a.user }));
        return void (await this.d.transport.post(req.channel, alreadyMigrating(e.container, e.existingId), req.ts));
      }
      throw e;
    }
    this.audit({ ...subject, action: 'approve', outcome: 'ok' });
    // The approval message becomes the job's live status.
    const st: StatusView = queuedStatus({ ...data, requesterId: data.requestedBy, approverId: a.user });
    await this.d.transport.update(req.channel, req.ts!, statusMessage(st));
  }

  private async cancel(c: { user: string; channel: string }, id: string): Promise<void> {
    const job = await this.d.queue.get(id);
    if (!job) return this.d.transport.ephemeral(c.channel, c.user, note(`No migration ${code(id)}.`));
    const file = await this.d.hosts();
    const envs = migrationEnvironments(this.d.policy, findHost(file, job.data.from), findHost(file, job.data.to));
    const allowed = c.user === job.data.requestedBy || canRequest(this.d.policy, { id: c.user, groups: await this.d.transport.groupsOf(c.user) }, envs).allowed;
    if (!allowed) return this.d.transport.ephemeral(c.channel, c.user, denied(`you may not cancel migration ${id}`));
    const r = await this.d.queue.cancel(id);
    this.audit({ actor: c.user, action: 'cancel', migrationId: id, container: job.data.container, outcome: r.ok ? 'ok' : 'error', reason: r.message });
    await this.d.transport.post(c.channel, note(esc(r.message)), job.data.thread?.statusTs);
  }

  private async hostsMessage(): Promise<ChatMessage> {
    const rows = await withHosts('all', async (hosts) =>
      Promise.all(
        hosts.map(async (h) => {
          try {
            const [caps, cs] = await Promise.all([probeHost(h), listContainers(h)]);
            return { name: h.name, environment: h.spec.environment, address: h.spec.address, reachable: true, criu: caps.criuVersion ?? 'missing', kernel: caps.kernel, preCopy: caps.softDirty, containers: cs.map((x) => x.name) };
          } catch {
            return { name: h.name, environment: h.spec.environment, address: h.spec.address, reachable: false };
          }
        }),
      ),
    );
    return hostsTable(rows);
  }

  private async listMessage(): Promise<ChatMessage> {
    const jobs = await this.d.queue.recent(15);
    const rows = await Promise.all(
      jobs.map(async (j) => ({ id: j.id!, container: j.data.container, from: j.data.from, to: j.data.to, status: jobStatus(await j.getState(), j.returnvalue), method: j.data.method, createdAt: new Date(j.timestamp) })),
    );
    return listTable(rows);
  }

  private async statusOf(id?: string): Promise<ChatMessage> {
    const job = id ? await this.d.queue.get(id) : (await this.d.queue.recent(1))[0];
    if (!job) return note(id ? `No migration ${code(id)}.` : 'No migrations yet.');
    const saved = await this.d.redis.get(`ferry:status:${job.id}`);
    const st: StatusView = saved ? (JSON.parse(saved) as StatusView) : queuedStatus({ ...job.data, requesterId: job.data.requestedBy, approverId: job.data.approvedBy });
    return statusMessage(st);
  }
}
