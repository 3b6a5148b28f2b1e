import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ChatService } from '../ChatService.ts';
import type { ChatTransport } from '../ChatTransport.ts';
import type { ChatMessage } from '../core/render.ts';

export interface SlackOptions {
  botToken: string;
  /** HTTP mode: requests are verified with it (signature and a 5-minute timestamp window). */
  signingSecret?: string;
  /** Socket Mode when set (xapp-…): no public URL needed. */
  appToken?: string;
  /** HTTP receiver port. @defaultValue 3000 (FERRY_HTTP_PORT) */
  port?: number;
  /** Slack Web API base URL; tests point it at a local stand-in. @defaultValue https://slack.com/api/ */
  slackApiUrl?: string;
}

/** Slack adapter: Bolt receives, acks within Slack's 3 s, and hands the work to the chat service. */
export function createSlackApp(opts: SlackOptions, log: Logger): { app: App; transport: ChatTransport; bind: (service: ChatService) => void } {
  if (!opts.appToken && !opts.signingSecret) throw new Error('Slack needs SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)');
  const app = new App({
    token: opts.botToken,
    ...(opts.appToken ? { appToken: opts.appToken, socketMode: true } : { signingSecret: opts.signingSecret!, port: opts.port ?? 3000 }),
    clientOptions: opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : undefined,
    logLevel: LogLevel.WARN,
    customRoutes: [{ path: '/healthz', method: ['GET'], handler: (_req, res) => void res.writeHead(200).end('ok') }],
  });

  let groups: { at: number; map: Map<string, string[]> } | undefined;
  const transport: ChatTransport = {
    post: async (channel, msg: ChatMessage, threadTs) => {
      const r = await app.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks as never, thread_ts: threadTs });
      return String(r.ts);
    },
    update: async (channel, ts, msg) => {
      await app.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks as never });
    },
    ephemeral: async (channel, user, msg) => {
      await app.client.chat.postEphemeral({ channel, user, text: msg.text, blocks: msg.blocks as never });
    },
    upload: async (channel, threadTs, file) => {
      await app.client.files.uploadV2({ channel_id: channel, thread_ts: threadTs, file: file.bytes, filename: file.name, title: file.title } as never);
    },
    groupsOf: async (user) => {
      // One usergroups.list per minute, not one lookup per click.
      if (!groups || Date.now() - groups.at > 60_000) {
        const r = await app.client.usergroups.list({ include_users: true }).catch(() => ({ usergroups: [] }));
        const map = new Map<string, string[]>();
        for (const g of (r.usergroups ?? []) as { id?: string; handle?: string; users?: string[] }[]) {
          for (const u of g.users ?? []) map.set(u, [...(map.get(u) ?? []), ...(g.id ? [g.id] : []), ...(g.handle ? [`group:${g.handle}`] : [])]);
        }
        groups = { at: Date.now(), map };
      }
      return groups.map.get(user) ?? [];
    },
  };

  const bind = (service: ChatService) => {
    app.command('/migrate', async ({ command, ack }) => {
      await ack();
      void service.onCommand({ user: command.user_id, channel: command.channel_id, text: command.text }).catch((e) => log.error({ err: String(e) }, 'command'));
    });
    app.action<BlockAction<ButtonAction>>(/^ferry_(approve|reject)$/, async ({ ack, body, action }) => {
      await ack();
      void service
        .onAction({ user: body.user.id, channel: body.channel?.id ?? '', actionId: action.action_id, value: action.value ?? '', messageTs: body.message?.ts })
        .catch((e) => log.error({ err: String(e) }, 'action'));
    });
  };
  return { app, transport, bind };
}
