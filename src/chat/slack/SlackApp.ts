import { App, SocketModeReceiver, type BlockAction, type ButtonAction, type CodedError, type CustomRoute, type RespondFn } from '@slack/bolt';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { serveHealth, serveMetrics, type OpsEndpoints } from '../../queue/ops-http.ts';
import { ErrorCode, FerryError, errorMessage } from '../../errors.ts';
import type { ChatService } from '../ChatService.ts';
import type { ChatTransport, Respond } from '../ChatTransport.ts';
import { requestFailed, type ChatMessage } from '../core/render.ts';
import { boltLogger } from './bolt-logger.ts';
import { FreshRequestReceiver } from './FreshRequestReceiver.ts';

/** Bolt's ExtendedErrorHandlerArgs (not exported by @slack/bolt): what `extendedErrorHandler` handlers get. */
type ErrorArgs = Parameters<Parameters<App['error']>[0]>[0];

export interface SlackOptions {
  botToken: string;
  /** HTTP mode: requests are verified with it (signature, and a timestamp within 5 minutes of now, past or future). */
  signingSecret?: string;
  /** Socket Mode when set (xapp-…): no public URL needed. */
  appToken?: string;
  /** HTTP receiver port (Socket Mode: the port of the custom routes). @defaultValue 3000 (FERRY_HTTP_PORT) */
  port?: number;
  /** Slack Web API base URL; tests point it at a local stand-in. @defaultValue https://slack.com/api/ */
  slackApiUrl?: string;
  /**
   * HTTP routes served beside Slack's, on `port` in both modes (the bot's /healthz and /metrics).
   * @defaultValue a /healthz that answers ok
   */
  routes?: CustomRoute[];
}

/**
 * Slack adapter: Bolt receives, acks within Slack's 3 s, and hands the work to the chat service.
 * Bolt logs through pino; a listener's failure reaches `app.error`, which logs it and tells the user.
 */
export function createSlackApp(opts: SlackOptions, log: Logger): { app: App; transport: ChatTransport; bind: (service: ChatService) => void } {
  if (!opts.appToken && !opts.signingSecret) {
    throw new FerryError(ErrorCode.ConfigInvalid, 'Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode): set one of them');
  }
  const logger = boltLogger(log);
  const customRoutes: CustomRoute[] = opts.routes ?? [{ path: '/healthz', method: ['GET'], handler: (_req, res) => void res.writeHead(200).end('ok') }];
  const port = opts.port ?? 3000;
  const clientOptions = opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : undefined;
  const app = new App({
    token: opts.botToken,
    receiver: opts.appToken
      ? // Socket Mode: Bolt's receiver, given the same Web API base URL (apps.connections.open goes there) and
        // the port of its small HTTP server, which serves only the custom routes.
        new SocketModeReceiver({ appToken: opts.appToken, logger, customRoutes, installerOptions: { port, clientOptions } })
      : new FreshRequestReceiver({ signingSecret: opts.signingSecret!, port, customRoutes, logger, log }),
    clientOptions,
    logger,
    // Bolt would otherwise set its logger to INFO; keep Ferry's level (FERRY_LOG_LEVEL).
    logLevel: logger.getLevel(),
    // The handler gets the request's body too, so it can answer the user who sent it.
    extendedErrorHandler: true,
  });

  app.error(async ({ error, body }: ErrorArgs) => {
    const from = requestOrigin(body);
    log.error({ err: errorOf(error), code: error.code, user: from.user, channel: from.channel }, 'a Slack request failed');
    const msg = requestFailed(error.message, error.code);
    try {
      if (from.responseUrl) {
        // Bolt's respond(): works even where the bot is not a channel member.
        const r = await fetch(from.responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...msg }) });
        if (!r.ok) log.warn({ status: r.status, user: from.user }, 'could not tell the user their request failed: response_url refused');
      } else if (from.channel && from.user) {
        await app.client.chat.postEphemeral({ channel: from.channel, user: from.user, text: msg.text, blocks: msg.blocks });
      }
    } catch (e) {
      log.warn({ err: e, user: from.user }, 'could not tell the user their request failed');
    }
  });

  let groups: { at: number; map: Map<string, string[]> } | undefined;
  const transport: ChatTransport = {
    post: async (channel, msg: ChatMessage, threadTs) => {
      const r = await app.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks, thread_ts: threadTs });
      return String(r.ts);
    },
    update: async (channel, ts, msg) => {
      await app.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks });
    },
    ephemeral: async (channel, user, msg) => {
      await app.client.chat.postEphemeral({ channel, user, text: msg.text, blocks: msg.blocks });
    },
    upload: async (channel, threadTs, file) => {
      const upload = { file: file.bytes, filename: file.name, title: file.title };
      // Slack's types tell a thread upload (channel and thread) from a channel upload: say which this is.
      await app.client.files.uploadV2(threadTs ? { ...upload, channel_id: channel, thread_ts: threadTs } : { ...upload, channel_id: channel });
    },
    groupsOf: async (user) => {
      // One usergroups.list per minute, not one lookup per click.
      if (!groups || Date.now() - groups.at > 60_000) {
        const r = await app.client.usergroups.list({ include_users: true }).catch((e: unknown) => {
          // Not cached: the next click tries again rather than treating group members as strangers for a minute.
          // The chat service reports it to the user and logs it.
          throw new FerryError(ErrorCode.GroupsUnavailable, `Slack's usergroups.list failed: ${errorMessage(e)}`, { original: e });
        });
        const map = new Map<string, string[]>();
        for (const g of (r.usergroups ?? []) as { id?: string; handle?: string; users?: string[] }[]) {
          for (const u of g.users ?? []) map.set(u, [...(map.get(u) ?? []), ...(g.id ? [g.id] : []), ...(g.handle ? [`group:${g.handle}`] : [])]);
        }
        groups = { at: Date.now(), map };
      }
      return groups.map.get(user) ?? [];
    },
  };

  // Ack first (Slack's 3 s), then do the work in the same listener: the HTTP answer is already sent,
  // and a failure propagates to app.error above instead of being lost.
  const bind = (service: ChatService) => {
    app.command('/migrate', async ({ command, ack, respond }) => {
      await ack();
      await service.onCommand({ user: command.user_id, channel: command.channel_id, text: command.text, respond: privately(respond) });
    });
    app.action<BlockAction<ButtonAction>>(/^ferry_(approve|reject)$/, async ({ ack, body, action, respond }) => {
      await ack();
      await service.onAction({
        user: body.user.id,
        channel: body.channel?.id ?? '',
        actionId: action.action_id,
        value: action.value ?? '',
        messageTs: body.message?.ts,
        respond: body.response_url ? privately(respond) : undefined,
      });
    });
  };
  return { app, transport, bind };
}

/**
 * /healthz and /metrics as Bolt custom routes, served by the HTTP receiver in HTTP mode and by the Socket
 * Mode receiver's own small server otherwise. `ops` is read per request: until the runtime is up (it needs
 * the Slack transport first), /healthz answers 503 `starting`.
 */
export function opsRoutes(ops: () => OpsEndpoints | undefined): CustomRoute[] {
  const starting = (res: ServerResponse) => void res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('starting\n');
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => void (ops() ? serveHealth(ops()!, res) : starting(res)) },
    { path: '/metrics', method: ['GET'], handler: (_req, res) => void (ops() ? serveMetrics(ops()!, res) : starting(res)) },
  ];
}

/**
 * Bolt's `respond()` (the request's response_url) as the chat service's private reply: ephemeral, and
 * never replacing the message a button sat on (the approval message is the job's status).
 */
function privately(respond: RespondFn): Respond {
  return async (msg) => {
    await respond({ response_type: 'ephemeral', replace_original: false, text: msg.text, blocks: msg.blocks });
  };
}

/** Who sent a request and where to answer, from any Slack body (slash command, block action, event). */
export function requestOrigin(body: unknown): { user?: string; channel?: string; responseUrl?: string } {
  const b = (body ?? {}) as {
    user_id?: unknown;
    channel_id?: unknown;
    response_url?: unknown;
    user?: { id?: unknown } | unknown;
    channel?: { id?: unknown } | unknown;
    event?: { user?: unknown; channel?: unknown };
  };
  const str = (x: unknown) => (typeof x === 'string' && x !== '' ? x : undefined);
  const idOf = (x: unknown) => (x && typeof x === 'object' ? str((x as { id?: unknown }).id) : undefined);
  return {
    user: str(b.user_id) ?? idOf(b.user) ?? str(b.event?.user),
    channel: str(b.channel_id) ?? idOf(b.channel) ?? str(b.event?.channel),
    responseUrl: str(b.response_url),
  };
}

/** The error to log: Bolt wraps what it does not know (`slack_bolt_unknown_error`) and keeps the cause. */
function errorOf(e: CodedError): Error {
  return e.original ?? e;
}
