import type { ChatMessage } from './core/render.ts';

/** What an adapter (Slack, console) gives the chat service. Adapters only translate. */
export interface ChatTransport {
  /** Posts a message (in a thread when threadTs is given); returns its ts. */
  post(channel: string, msg: ChatMessage, threadTs?: string): Promise<string>;
  update(channel: string, ts: string, msg: ChatMessage): Promise<void>;
  /** A message only `user` sees: usage errors, denials. */
  ephemeral(channel: string, user: string, msg: ChatMessage): Promise<void>;
  upload(channel: string, threadTs: string | undefined, file: { name: string; title: string; bytes: Buffer }): Promise<void>;
  /** The user's groups in the policy's notation (Slack user-group IDs, `group:<name>`). */
  groupsOf(user: string): Promise<string[]>;
}
