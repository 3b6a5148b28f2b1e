import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ErrorCode, FerryError, decodeError, errorMessage } from '../errors.ts';
import type { RecoveryReport } from '../app/recover.ts';
import { subjectFields, subjectText } from '../migrate/request.ts';
import { recoveredKey } from '../queue/recovery.ts';
import { keys, QUEUE_NAME, type JobProgress, type JobResult, type MigrationJobData } from '../queue/jobs.ts';
import type { MigrationQueue } from '../queue/MigrationQueue.ts';
import type { ChatTransport } from './ChatTransport.ts';
import { dryRunReport, failure, groupSummary, hookReply, note, phaseReply, provisionReply, statusMessage, summary } from './core/render.ts';
import { applyEvent, applyMemberEvent, groupReportStatus, queuedStatus, reportStatus, type StatusView } from './core/status.ts';

/**
 * Turns queue progress into chat: the status message is updated in place (chat.update), phases
 * get thread replies (a group member's named), the end gets the summary (a group's: a row per
 * member and one for the group). Several bot replicas may run: each event is relayed by whichever
 * replica claims it first in Redis.
 */
export class ProgressRelay {
  private events?: QueueEvents;
  private connection?: Redis;
  private readonly states = new Map<string, StatusView>();
  private readonly frozen = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly queue: MigrationQueue,
    private readonly transport: ChatTransport,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.connection = this.redis.duplicate({ maxRetriesPerRequest: null });
    this.connection.on('error', (e) => this.log.debug({ err: e.message }, 'relay redis'));
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connection });
    this.events.on('progress', ({ jobId, data }) => this.enqueue(jobId, () => this.onProgress(jobId, data as JobProgress)));
    this.events.on('completed', ({ jobId, returnvalue }) => this.enqueue(jobId, () => this.onCompleted(jobId, returnvalue as unknown as JobResult)));
    this.events.on('failed', ({ jobId, failedReason }) => this.enqueue(jobId, () => this.onFailed(jobId, failedReason)));
    await this.events.waitUntilReady();
  }

  /** Resolves once every event received so far has been relayed. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await this.chain;
  }

  async stop(): Promise<void> {
    await this.idle();
    await this.events?.close();
    this.connection?.disconnect();
  }

  // Events of all jobs are relayed in arrival order: Slack sees phases in the order they happened.
  private enqueue(key: string, fn: () => Promise<void>): void {
    const tag = `${key}:${Math.random()}`;
    this.pending.add(tag);
    this.chain = this.chain
      .then(fn)
      .catch((e) => this.log.warn({ job: key, err: errorMessage(e) }, 'relay failed'))
      .finally(() => this.pending.delete(tag));
  }

  private async claim(jobId: string, what: string): Promise<boolean> {
    return (await this.redis.set(`ferry:relay:${jobId}:${what}`, '1', 'EX', 24 * 3600, 'NX')) === 'OK';
  }

  private async state(jobId: string): Promise<{ st: StatusView; data: MigrationJobData } | null> {
    const job = await this.queue.get(jobId);
    if (!job) return null;
    const st = this.states.get(jobId) ?? queuedStatus({ ...job.data, requesterId: job.data.requestedBy, approverId: job.data.approvedBy });
    return { st, data: job.data };
  }

  private async publish(jobId: string, data: MigrationJobData, st: StatusView): Promise<void> {
    this.states.set(jobId, st);
    await this.redis.set(`ferry:status:${jobId}`, JSON.stringify(st), 'EX', 7 * 24 * 3600);
    if (data.thread?.statusTs) await this.transport.update(data.thread.channel, data.thread.statusTs, statusMessage(st));
  }

  private async onProgress(jobId: string, p: JobProgress): Promise<void> {
    const s = await this.state(jobId);
    if (!s) return;
    let st = s.st;
    let reply: string | null = null;
    if ('event' in p) {
      st = p.member === undefined ? applyEvent(st, p.event) : applyMemberEvent(st, p.event, p.member);
      if (p.event.type === 'frozen') this.frozen.add(jobId);
      reply = phaseReply(p.event, p.member);
    } else if ('hook' in p) {
      st = { ...st, status: st.status === 'queued' ? 'running' : st.status, note: `the ${p.hook} hook is running` };
      reply = hookReply(p.hook, p.lines);
    } else if (p.state === 'start') {
      st = { ...st, status: 'running', note: p.step === 'provision' ? 'provisioning the hosts (Terraform, Ansible)' : st.note };
    } else if (p.step === 'provision') {
      reply = provisionReply(s.data.from, st.to, p.detail);
    }
    this.states.set(jobId, st);
    if (!(await this.claim(jobId, `p${p.seq}`))) return;
    await this.publish(jobId, s.data, st);
    if (reply && s.data.thread) await this.transport.post(s.data.thread.channel, note(reply), s.data.thread.statusTs);
  }

  private async onCompleted(jobId: string, result: JobResult): Promise<void> {
    const s = await this.state(jobId);
    if (!s || !(await this.claim(jobId, 'end'))) return;
    const thread = s.data.thread;
    if (result.dryRun) {
      await this.publish(jobId, s.data, { ...s.st, status: 'done', note: 'dry run: nothing was frozen' });
      if (thread) await this.transport.post(thread.channel, dryRunReport(subjectText(s.data), result), thread.statusTs);
      return;
    }
    if ('group' in result) {
      await this.publish(jobId, s.data, groupReportStatus(s.st, result.group));
      if (thread) await this.transport.post(thread.channel, groupSummary(result.group, { id: jobId }), thread.statusTs);
      this.states.delete(jobId);
      return;
    }
    const st = reportStatus(s.st, result.report);
    await this.publish(jobId, s.data, st);
    const msg = result.report.outcome === 'migrated' ? summary(result.report) : failure(result.report);
    if (thread) await this.transport.post(thread.channel, msg, thread.statusTs);
    // The worker's load probe, when HAProxy fronted the container: its plot beside the summary.
    const plot = await this.redis.get(keys.plot(jobId));
    if (thread && plot) {
      await this.transport.upload(thread.channel, thread.statusTs, {
        name: `${jobId}-response-time.png`,
        title: `Response time through ${result.report.container}'s migration (${result.report.method})`,
        bytes: Buffer.from(plot, 'base64'),
      });
    }
    this.states.delete(jobId);
  }

  private async onRecovered(jobId: string, s: { st: StatusView; data: MigrationJobData }, r: RecoveryReport): Promise<void> {
    const where = r.runsOn ?? null;
    const what = r.outcome === 'migrated' ? `finished by recovery: ${r.container} runs on ${r.runsOn}` : r.outcome === 'rolled-back' ? `rolled back by recovery: ${r.container} runs on ${r.runsOn}` : `recovery failed: ${r.error ?? 'unknown'}`;
    const st: StatusView = { ...s.st, status: r.outcome === 'migrated' ? 'done' : r.outcome === 'rolled-back' ? 'rolled-back' : 'failed', runsOn: where ?? undefined, error: `its worker died during the migration (${r.phase}); ${what}` };
    await this.publish(jobId, s.data, st);
    const err = new FerryError(r.outcome === 'failed' ? ErrorCode.RollbackFailed : ErrorCode.MigrationFailed, st.error!);
    const msg = failure(err, { ...subjectFields(s.data), from: s.data.from, to: s.data.to, runsOn: where, id: jobId });
    if (s.data.thread) await this.transport.post(s.data.thread.channel, msg, s.data.thread.statusTs);
    this.states.delete(jobId);
  }

  private async onFailed(jobId: string, reason: string): Promise<void> {
    const s = await this.state(jobId);
    if (!s || !(await this.claim(jobId, 'end'))) return;
    const frozen = this.frozen.has(jobId) || s.st.frozen === true;
    // A worker that died mid-migration: recovery (queue/recovery.ts) may already say how it ended.
    const recovered = await this.redis.get(recoveredKey(jobId)).then((v) => (v ? (JSON.parse(v) as RecoveryReport) : null)).catch(() => null);
    if (recovered && recovered.outcome !== 'skipped') return this.onRecovered(jobId, s, recovered);
    const err = decodeError(reason);
    // A forged or altered job names a thread of its choosing: never post there.
    if (err.code === ErrorCode.JobSignatureInvalid) {
      this.log.warn({ job: jobId, err: err.message }, 'refused job: not posting to the thread it names');
      return;
    }
    const cancelled = err.code === ErrorCode.Cancelled;
    const st: StatusView = { ...s.st, status: cancelled ? 'cancelled' : 'failed', error: err.message };
    await this.publish(jobId, s.data, st);
    // Before the freeze nothing moved; after it, only the engine's report could say where it runs.
    // `to` as the status knows it: the picked member once a target group's pick was made, `group:NAME` before.
    const msg = failure(err, { ...subjectFields(s.data), from: s.data.from, to: s.st.to, runsOn: frozen ? null : 'wherever it ran before (nothing was frozen)', id: jobId });
    if (s.data.thread) await this.transport.post(s.data.thread.channel, msg, s.data.thread.statusTs);
    this.states.delete(jobId);
  }
}
