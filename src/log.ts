import { pino, type Logger } from 'pino';

let root: Logger | undefined;

/** One process-wide logger; JSON to stderr so stdout stays for command output. */
export function logger(): Logger {
  root ??= pino(
    { level: process.env.FERRY_LOG_LEVEL ?? 'warn', base: { app: 'ferry' } },
    pino.destination({ dest: 2, sync: true }),
  );
  return root;
}
