import type { ChatCommand } from './parse.ts';

/**
 * A command as the user would type it after `/migrate`, in its canonical form (lowercase keywords,
 * `method` only when not auto). `parseCommand(commandText(c))` gives `c` back for every command the
 * parser can produce; replies use it to show the exact command to run next.
 */
export function commandText(c: ChatCommand): string {
  switch (c.kind) {
    case 'migrate':
      return [c.container, 'from', c.from, 'to', c.to, ...(c.method === 'auto' ? [] : ['method', c.method]), ...(c.dryRun ? ['dry-run'] : [])].join(' ');
    case 'status':
      return c.id === undefined ? 'status' : `status ${c.id}`;
    case 'cancel':
      return `cancel ${c.id}`;
    case 'list':
    case 'hosts':
    case 'help':
      return c.kind;
  }
}
