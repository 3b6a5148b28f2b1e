import { PUBLIC_WORD, type ChatCommand } from './parse.ts';

/**
 * A command as the user would type it after `/migrate`, in its canonical form (lowercase keywords,
 * `method` only when not auto). `parseCommand(commandText(c))` gives `c` back for every command the
 * parser can produce; replies use it to show the exact command to run next.
 */
export function commandText(c: ChatCommand): string {
  switch (c.kind) {
    case 'migrate':
      return [...(c.group !== undefined ? ['group', c.group] : [c.container]), 'from', c.from, 'to', c.to, ...(c.method === 'auto' ? [] : ['method', c.method]), ...(c.dryRun ? ['dry-run'] : [])].join(' ');
    case 'status':
      return [c.kind, ...(c.id === undefined ? [] : [c.id]), ...(c.public ? [PUBLIC_WORD] : [])].join(' ');
    case 'cancel':
      return `cancel ${c.id}`;
    case 'list':
    case 'hosts':
      return c.public ? `${c.kind} ${PUBLIC_WORD}` : c.kind;
    case 'help':
      return c.kind;
  }
}
