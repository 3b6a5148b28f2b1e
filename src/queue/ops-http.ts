import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { runChecks, type HealthCheck } from './health.ts';
import type { FerryMetrics } from './metrics.ts';

/** What /healthz and /metrics answer from. */
export interface OpsEndpoints {
  /** Everything /healthz checks (Redis; the worker where this process runs one). */
  checks: readonly HealthCheck[];
  metrics: FerryMetrics;
  /** The queue whose job counts /metrics adds (BullMQ's exporter). */
  queue?: Queue;
}

/** GET /healthz: 200 and each check's state when all pass, 503 otherwise (compose and Kubernetes probes read the status). */
export async function serveHealth(ops: OpsEndpoints, res: ServerResponse): Promise<void> {
  const h = await runChecks(ops.checks);
  res.writeHead(h.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(h.text);
}

/** How long /metrics waits for the queue's counts from Redis before answering 503. @defaultValue 2 s */
export const METRICS_TIMEOUT_MS = 2000;

/**
 * GET /metrics: Prometheus's text format; 503 when the queue's counts cannot be read in time (Redis
 * down: the queue's connection would otherwise wait for Redis to come back, and so would the scrape).
 */
export async function serveMetrics(ops: OpsEndpoints, res: ServerResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FerryError(ErrorCode.RedisUnavailable, `the queue's counts did not come from Redis within ${METRICS_TIMEOUT_MS} ms`)),
        METRICS_TIMEOUT_MS,
      );
    });
    const text = await Promise.race([ops.metrics.render(ops.queue), late]);
    res.writeHead(200, { 'content-type': ops.metrics.contentType }).end(text);
  } catch (e) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics unavailable: ${errorMessage(e)}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Answers /healthz and /metrics; returns false for any other request (the caller answers it). */
export function opsHandler(ops: OpsEndpoints): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/healthz') return void serveHealth(ops, res), true;
    if (path === '/metrics') return void serveMetrics(ops, res), true;
    return false;
  };
}

/** An HTTP server with only /healthz and /metrics (the worker's; the bot serves them beside Slack's routes). */
export function opsServer(port: number, ops: OpsEndpoints, host?: string): http.Server {
  const handle = opsHandler(ops);
  return http.createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  }).listen(port, host);
}
