import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Slack's Web API: Slack's servers cannot exist here, so Bolt's real client
 * is pointed at this (`clientOptions.slackApiUrl`). It answers the methods Ferry uses and records
 * every call, so tests assert what Ferry posted, updated and uploaded.
 */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** What the stand-in answered (a posted message's ts is here). */
  result: Record<string, unknown>;
}

export class SlackStandIn {
  readonly calls: RecordedCall[] = [];
  readonly uploads: { filename: string; bytes: Buffer }[] = [];
  private server?: http.Server;
  private ts = 1_700_000_000;
  private waiters: { pred: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }[] = [];
  /** usergroup id → member user ids. */
  groups: Record<string, string[]> = {};
  url = '';

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the first call (past or future) matching pred. */
  waitFor(pred: (c: RecordedCall) => boolean, timeoutMs = 120_000): Promise<RecordedCall> {
    const hit = this.calls.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a Slack API call')), timeoutMs);
      this.waiters.push({ pred, resolve: (c) => (clearTimeout(t), resolve(c)) });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/upload/')) {
      this.uploads.push({ filename: decodeURIComponent(url.pathname.slice(8)), bytes: body });
      res.end('OK');
      return;
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const ct = req.headers['content-type'] ?? '';
    let args: Record<string, unknown> = {};
    if (ct.includes('application/json')) args = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
    else args = Object.fromEntries(new URLSearchParams(body.toString()));
    for (const k of ['blocks', 'attachments', 'files']) {
      if (typeof args[k] === 'string') {
        try {
          args[k] = JSON.parse(args[k] as string);
        } catch {
          /* leave as sent */
        }
      }
    }
    const call: RecordedCall = { method, args, result: this.answer(method, args) };
    this.calls.push(call);
    for (const w of this.waiters.splice(0)) {
      if (w.pred(call)) w.resolve(call);
      else this.waiters.push(w);
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(call.result));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const ts = () => `${++this.ts}.000100`;
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UFERRYBOT', bot_id: 'BFERRY', team_id: 'TFERRY', user: 'ferry', team: 'test' };
      case 'chat.postMessage':
        return { ok: true, channel: args.channel, ts: ts(), message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: ts() };
      case 'usergroups.list':
        return { ok: true, usergroups: Object.entries(this.groups).map(([id, users]) => ({ id, handle: id.toLowerCase(), users })) };
      case 'files.getUploadURLExternal':
        return { ok: true, upload_url: `${this.url.replace(/\/api\/$/, '')}/upload/${encodeURIComponent(String(args.filename))}`, file_id: `F${this.uploads.length + 1}` };
      case 'files.completeUploadExternal':
        return { ok: true, files: [{ id: 'F1', title: 'upload' }] };
      default:
        return { ok: true };
    }
  }
}

/** Signs a request body as Slack does: v0=HMAC-SHA256(secret, `v0:${ts}:${body}`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}
