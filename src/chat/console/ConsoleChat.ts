import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import type { ChatService } from '../ChatService.ts';
import type { ChatTransport } from '../ChatTransport.ts';
import { ACTION_IDS } from '../core/render.ts';
import { changedLines, consoleAction, toConsoleText } from '../core/console-render.ts';
import { loadPolicy, type Policy } from '../core/policy.ts';

/** Console users and their IDs in the policy's notation (`/as bob` → UBOB). */
export const consoleUserId = (name: string) => `U${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;

/** The embedded default policy: alice and bob operate the local lab; either may approve the other. */
export function defaultConsolePolicy(environments: string[]): Policy {
  const rules = { requesters: ['group:operators'], approvers: ['group:operators'] };
  return loadPolicy({ environments: Object.fromEntries(environments.map((e) => [e, rules])), approvalTtlMinutes: 15 }, 'console default policy');
}

export const CONSOLE_HELP = `console chat: type /migrate commands as in Slack.
  /migrate web1 from lab-1 to lab-2 [method page-server] [dry-run]
  /migrate group blog from lab-1 to lab-2 [method page-server]   (every container of a group, as one)
  /migrate status [id] | list | cancel <id> | hosts | help
  /approve [id]   /reject [id]     (the latest request when no id)
  /as <name>      act as another user (default alice; try /as bob to approve)
  /wait           wait until every queued migration has finished
  /quit`;

/**
 * A terminal chat on the same command core as Slack (Hubot's shell adapter is the model). Reads
 * a terminal or a script on stdin; at the end of a script it waits for queued work to finish.
 */
export class ConsoleChat {
  private user = 'alice';
  private ts = 0;
  private lastApproval?: string;
  private readonly shown = new Map<string, string>();
  /** The status block printed last, when nothing came after it: a terminal rewrites it in place. */
  private lastBlock?: { ts: string; rows: number };
  readonly channel = 'console';

  /**
   * @param out - Writes one line (or several, joined by newlines).
   * @param opts.terminal - Set when the output is a terminal: status updates are then rewritten in
   *   place (raw writes and the width, to count the rows a block takes). Otherwise an update prints
   *   only the lines that changed.
   */
  constructor(
    private readonly out: (s: string) => void,
    private readonly uploadDir: string,
    private readonly opts: { terminal?: { write(s: string): void; columns: number } } = {},
  ) {}

  readonly transport: ChatTransport = {
    post: async (_channel, msg, threadTs) => {
      const ts = String(++this.ts);
      for (const b of msg.blocks as { type?: string; elements?: { action_id?: string; value?: string }[] }[]) {
        const approve = b.type === 'actions' ? b.elements?.find((e) => e.action_id === ACTION_IDS.approve) : undefined;
        if (approve?.value) this.lastApproval = approve.value;
      }
      this.print(threadTs ? `  ↳ ` : `ferry: `, toConsoleText(msg));
      return ts;
    },
    update: async (_channel, ts, msg) => {
      // A status message is updated many times: on a terminal it is rewritten where it stands (if
      // nothing was printed after it), elsewhere only what changed is printed.
      const text = toConsoleText(msg);
      const before = this.shown.get(ts);
      if (before === text) return;
      this.shown.set(ts, text);
      const term = this.opts.terminal;
      if (term) {
        if (this.lastBlock?.ts === ts) term.write(`\x1b[${this.lastBlock.rows}F\x1b[J`);
        const block = this.block('ferry (status): ', text);
        term.write(`${block}\n`);
        this.lastBlock = { ts, rows: rowsOf(block, term.columns) };
        return;
      }
      const lines = before === undefined ? text.split('\n') : changedLines(before, text);
      if (lines.length) this.print('ferry (status): ', lines.join('\n'));
    },
    ephemeral: async (_channel, user, msg) => this.print(`ferry (to ${user} only): `, toConsoleText(msg)),
    upload: async (_channel, _thread, file) => {
      await mkdir(this.uploadDir, { recursive: true });
      const p = path.join(this.uploadDir, file.name);
      await writeFile(p, file.bytes);
      this.print('  ↳ ', `uploaded ${file.title}: ${p}`);
    },
    groupsOf: async () => ['group:operators'],
  };

  private block(prefix: string, text: string): string {
    const pad = ' '.repeat(prefix.length);
    return text
      .split('\n')
      .map((l, i) => (i === 0 ? prefix : pad) + l)
      .join('\n');
  }

  private print(prefix: string, text: string): void {
    this.lastBlock = undefined;
    this.out(this.block(prefix, text));
  }

  /** Handles one input line; returns false on /quit. */
  async line(service: ChatService, raw: string, waitIdle: () => Promise<void>): Promise<boolean> {
    const line = raw.trim();
    // Whatever was typed moved the cursor: the last status block is no longer where a rewrite would look.
    this.lastBlock = undefined;
    if (!line || line.startsWith('#')) return true;
    this.out(`${this.user}> ${line}`);
    const id = consoleUserId(this.user);
    if (line === '/quit' || line === '/exit') return false;
    if (line === '/help' || line === 'help') return void this.out(CONSOLE_HELP), true;
    if (line === '/wait') return await waitIdle(), true;
    const as = /^\/as\s+([a-z][a-z0-9]{0,20})$/i.exec(line);
    if (as) {
      this.user = as[1]!.toLowerCase();
      this.out(`(you are now ${this.user}, ${consoleUserId(this.user)})`);
      return true;
    }
    const bare = /^\/(approve|reject)$/i.exec(line);
    const action = bare ? consoleAction(`/${bare[1]} ${this.lastApproval ?? 'none'}`) : consoleAction(line);
    if (action) {
      await service.onAction({ user: id, channel: this.channel, actionId: action.actionId, value: action.value });
      return true;
    }
    const m = /^\/migrate\b(.*)$/i.exec(line);
    if (!m) {
      this.out(`unknown input '${line}': ${CONSOLE_HELP}`);
      return true;
    }
    await service.onCommand({ user: id, channel: this.channel, text: m[1]!.trim() });
    return true;
  }

  async run(service: ChatService, input: NodeJS.ReadableStream, waitIdle: () => Promise<void>, interactive: boolean): Promise<void> {
    if (interactive) this.out(CONSOLE_HELP);
    const rl = readline.createInterface({ input, terminal: false });
    for await (const raw of rl) {
      if (!(await this.line(service, raw, waitIdle))) break;
    }
    rl.close();
    // A script's last line may have queued a migration: see it through before exiting.
    await waitIdle();
  }
}

/** Terminal rows a block takes at `columns` wide (a long line wraps); characters counted as one column each. */
export function rowsOf(block: string, columns: number): number {
  return block.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil([...l].length / Math.max(1, columns))), 0);
}
