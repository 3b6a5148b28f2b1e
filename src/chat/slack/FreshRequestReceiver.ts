import { HTTPReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';

/** Slack's replay window: a request's timestamp may differ from our clock by at most this, either way. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * How many seconds past the replay window a request's `X-Slack-Request-Timestamp` lies in the future,
 * or undefined when it is within the window (or absent, repeated or not a number: Bolt refuses those
 * itself). Pure, for tests.
 */
export function secondsTooFarAhead(header: string | string[] | undefined, nowMs: number): number | undefined {
  if (typeof header !== 'string') return undefined;
  // Read as Bolt reads it (Number(), so ` 17e8` or `0x…` too): the value checked is the value signed.
  const stamped = Number(header);
  if (!Number.isFinite(stamped)) return undefined;
  const ahead = stamped - Math.floor(nowMs / 1000);
  return ahead > MAX_CLOCK_SKEW_SECONDS ? ahead : undefined;
}

/** Options of {@link FreshRequestReceiver}: Bolt's own, plus a clock for tests. */
export interface FreshRequestReceiverOptions extends HTTPReceiverOptions {
  /** Where refusals are logged (one warn line each). */
  log: Logger;
  /** The clock requests are checked against. @defaultValue Date.now */
  now?: () => number;
}

/**
 * Bolt's HTTPReceiver, refusing requests stamped more than 5 minutes in the future as well as in the past.
 *
 * Bolt refuses only stale requests: `verifySlackRequest` in
 * node_modules/@slack/bolt/dist/receivers/verify-request.js (src/receivers/verify-request.ts in
 * slackapi/bolt-js, 5.1.0) checks `requestTimestampSec < fiveMinutesAgoSec` and nothing above now, so a
 * request signed with a timestamp ahead of the clock (a captured request replayed later, or a skewed
 * signer) is accepted until that time has passed and 5 minutes more. Bolt offers no hook before its
 * verification (`customPropertiesExtractor` runs after it; turning `signatureVerification` off would mean
 * re-implementing it), so this wraps the receiver's public `requestListener`, which its server calls for
 * every request: event endpoints get the extra check, then everything goes to Bolt unchanged. A
 * refused request gets what Bolt answers a stale one: 401 with no body.
 */
export class FreshRequestReceiver extends HTTPReceiver {
  constructor({ log, now = Date.now, ...options }: FreshRequestReceiverOptions) {
    super(options);
    const endpoints = options.endpoints === undefined ? ['/slack/events'] : ([] as string[]).concat(options.endpoints);
    const bolt = this.requestListener;
    this.requestListener = (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method?.toUpperCase() === 'POST' && endpoints.includes(path)) {
        const ahead = secondsTooFarAhead(req.headers['x-slack-request-timestamp'], now());
        if (ahead !== undefined) {
          log.warn({ path, timestamp: req.headers['x-slack-request-timestamp'], aheadSeconds: ahead, maxSkewSeconds: MAX_CLOCK_SKEW_SECONDS }, 'refused a Slack request stamped in the future');
          req.resume(); // drain the body so the connection can be reused
          res.writeHead(401).end();
          return;
        }
      }
      bolt(req, res);
    };
  }
}
