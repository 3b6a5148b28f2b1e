import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** pino's level names as Bolt's four (pino's trace is Bolt's debug; fatal and silent its error). */
const BOLT_LEVEL: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/**
 * Bolt's `logger` option (App, its receivers and its WebClient all log through it) backed by pino, so
 * Bolt's lines are JSON on stderr like Ferry's own, tagged `part: 'bolt'`. Bolt passes strings, Errors
 * and objects: Errors go to pino's `err` serializer, the rest is joined into the message.
 *
 * Bolt's `setLevel` changes only this logger's level (a pino child has its own), never Ferry's; it
 * starts at Ferry's level (FERRY_LOG_LEVEL), so pass `logLevel: logger.getLevel()` to App to keep it.
 */
export function boltLogger(log: Logger): BoltLogger {
  let target = log.child({ part: 'bolt' });
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]): void => {
      if (!target.isLevelEnabled(level)) return;
      const err = msg.find((m): m is Error => m instanceof Error);
      const text = msg
        .filter((m) => m !== err)
        .map(show)
        .join(' ');
      if (err) target[level]({ err }, text || err.message);
      else target[level](text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (level: LogLevel) => {
      target.level = level;
    },
    getLevel: () => BOLT_LEVEL[target.level] ?? LogLevel.INFO,
    setName: (name: string) => {
      const level = target.level;
      target = log.child({ part: 'bolt', name });
      target.level = level;
    },
  };
}

function show(m: unknown): string {
  if (typeof m === 'string') return m;
  try {
    return JSON.stringify(m) ?? String(m);
  } catch {
    return String(m);
  }
}
