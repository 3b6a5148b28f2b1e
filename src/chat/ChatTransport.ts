import type { ChatMessage } from './core/render.ts';

/**
 * A private answer to whoever sent a command or clicked a button, through the request's own reply
 * channel: Slack's `response_url` (Bolt's `respond()`), which works in channels the bot is not a member
 * of and in direct messages, where `chat.postEphemeral` fails.
 */
export type Respond = (msg: ChatMessage) => Promise<void>;

/** Who sent a command or a click, where, and how to answer them privately. */
export interface ChatRequest {
  user: string;
  channel: string;
  /** The request's own private reply. @defaultValue the transport's `ephemeral` */
  respond?: Respond;
}

/** What an adapter (Slack, console) gives the chat service. Adapters only translate. */
export interface ChatTransport {
  /** Posts a message (in a thread when threadTs is given); returns its ts. */
  post(channel: string, msg: ChatMessage, threadTs?: string): Promise<string>;
  update(channel: string, ts: string, msg: ChatMessage): Promise<void>;
  /** A message only `user` sees, for requests that came without a {@link Respond} (usage errors, denials). */
  ephemeral(channel: string, user: string, msg: ChatMessage): Promise<void>;
  upload(channel: string, threadTs: string | undefined, file: { name: string; title: string; bytes: Buffer }): Promise<void>;
  /**
   * The user's groups in the policy's notation (Slack user-group IDs, `group:<name>`).
   * @throws FerryError `ferry_groups_unavailable` when the platform cannot say (the caller reports and logs it).
   */
  groupsOf(user: string): Promise<string[]>;
}
