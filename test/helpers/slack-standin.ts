import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local stand-in for Slack's Web API and its Socket Mode WebSocket: Slack's servers cannot exist
 * here, so Bolt's real client is pointed at this (`clientOptions.slackApiUrl`). It answers the methods
 * Ferry uses and records every call, so tests assert what Ferry posted, updated and uploaded. For Socket
 * Mode, `apps.connections.open` answers with the URL of a WebSocket this stand-in serves, which greets
 * the app with `hello` and carries envelopes both ways as Slack does (see {@link SlackStandIn.deliver}).
 */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** What the stand-in answered (a posted message's ts is here). */
  result: Record<string, unknown>;
  /** The bearer token the call carried (the bot's xoxb-…, or the app-level xapp-… for apps.connections.open). */
  token?: string;
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

  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly acks = new Map<string, (payload: unknown) => void>();
  /** Socket Mode connections opened so far. */
  connections = 0;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (req.url !== '/socket-mode') return void socket.destroy();
      this.sockets.handleUpgrade(req, socket, head, (ws) => this.greet(ws));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets.clients) ws.terminate();
    await new Promise<void>((r) => this.sockets.close(() => r()));
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A Socket Mode connection: Slack says hello, then the app acknowledges each envelope by its id. */
  private greet(ws: WebSocket): void {
    this.connections++;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (m.envelope_id) this.acks.get(m.envelope_id)?.(m.payload ?? {});
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'slack-standin', approximate_connection_time: 3600 }, connection_info: { app_id: 'AFERRY' } }));
  }

  /**
   * Sends one envelope over the Socket Mode WebSocket exactly as Slack does (`slash_commands` with the
   * command's fields, `interactive` with a block_actions payload) and resolves with the app's
   * acknowledgement, which Slack requires within 3 s.
   */
  deliver(type: 'slash_commands' | 'interactive', payload: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    const ws = [...this.sockets.clients][0];
    if (!ws) return Promise.reject(new Error('no Socket Mode connection: start the app first'));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no acknowledgement of envelope ${id} (${type})`)), timeoutMs);
      this.acks.set(id, (p) => {
        clearTimeout(t);
        this.acks.delete(id);
        resolve(p);
      });
      ws.send(JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: type === 'slash_commands' }));
    });
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
      // Slack takes the file raw or as multipart/form-data (which @slack/web-api 7.x sends): keep the file's bytes.
      let bytes = body;
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('multipart/form-data')) {
        const form = await new Request('http://standin/', { method: 'POST', headers: { 'content-type': type }, body }).formData();
        const file = [...form.values()].find((v) => typeof v !== 'string');
        if (file && typeof file !== 'string') bytes = Buffer.from(await file.arrayBuffer());
      }
      this.uploads.push({ filename: decodeURIComponent(url.pathname.slice(8)), bytes });
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
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
    const call: RecordedCall = { method, args, result: this.answer(method, args), token };
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
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace(/^http/, 'ws').replace(/\/api\/$/, '')}/socket-mode` };
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
