import path from 'node:path';
import { loadHosts } from '../../app/hosts.ts';
import { DEMO_CONTAINER, ensureDemo } from '../../app/lab.ts';
import { ConsoleChat, defaultConsolePolicy } from '../../chat/console/ConsoleChat.ts';
import { readPolicyFile } from '../../chat/core/policy-file.ts';
import { connectRedis, startRuntime } from '../../chat/runtime.ts';
import { createSlackApp, opsRoutes } from '../../chat/slack/SlackApp.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { logger } from '../../log.ts';
import { createMigrationWorker } from '../../queue/MigrationWorker.ts';
import { redisCheck, workerCheck } from '../../queue/health.ts';
import { ferryMetrics } from '../../queue/metrics.ts';
import { MigrationQueue } from '../../queue/MigrationQueue.ts';
import { opsServer, type OpsEndpoints } from '../../queue/ops-http.ts';
import { startRecovery } from '../../queue/recovery.ts';
import { parseFlags, type Command } from '../command.ts';
import { runSteps, VERBOSE_HELP } from '../steps.ts';

/**
 * `ferry start`: the embedded default. With Slack tokens, the Slack bot plus a worker; without,
 * the console chat on the local lab (its own Redis when REDIS_URL is unset).
 */
export const startCommand: Command = {
  name: 'start',
  synopsis: 'ferry start [--no-lab] [--verbose]',
  summary: 'the embedded default: the local lab and the console chat (the Slack bot when SLACK_BOT_TOKEN is set)',
  details: ['--no-lab    use the hosts as they are (the inventory, or FERRY_HOSTS_FILE) instead of bringing up the lab and web1', VERBOSE_HELP].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, { 'no-lab': { type: 'boolean' }, verbose: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    if (config.slack.botToken) return botCommand.run(['--worker'], io);
    if (!values['no-lab']) {
      const { value: demo } = await runSteps(io, { command: 'start', verbose: values.verbose, logDir: config.labDir }, (say) => ensureDemo(config, say));
      io.err(`${DEMO_CONTAINER} runs on ${demo.host}; try: /migrate ${DEMO_CONTAINER} from ${demo.host} to ${demo.hosts.find((h) => h !== demo.host)}`);
    }
    const file = await loadHosts(config);
    const policy = config.policyFile ? await readPolicyFile(config.policyFile) : defaultConsolePolicy([...new Set(file.hosts.map((h) => h.environment))]);
    // On a terminal the chat rewrites each status message in place (stdout, where the chat prints).
    const terminal = io.isTTY ? { write: (s: string) => void process.stdout.write(s), get columns() { return process.stdout.columns || 80; } } : undefined;
    const chat = new ConsoleChat((s) => io.out(s), path.join(config.labDir, 'uploads'), { terminal });
    const rt = await startRuntime(config, chat.transport, policy, { worker: true });
    try {
      await chat.run(rt.service, process.stdin, () => rt.idle(), Boolean(process.stdin.isTTY));
    } finally {
      await rt.close();
    }
    return 0;
  },
};

/** `ferry bot [--worker]`: the Slack app (HTTP or Socket Mode) and the progress relay. */
export const botCommand: Command = {
  name: 'bot',
  synopsis: 'ferry bot [--worker]',
  summary: 'the Slack bot (HTTP receiver or Socket Mode) and the progress relay',
  details: '--worker   run a queue worker in the same process',
  async run(args, io) {
    const { values } = parseFlags(args, { worker: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const s = config.slack;
    if (!s.botToken) throw new FerryError(ErrorCode.ConfigInvalid, 'SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) is not set: the Slack bot needs it (or run `ferry start` for the console chat)');
    if (!s.signingSecret && !s.appToken) throw new FerryError(ErrorCode.ConfigInvalid, 'set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode), or their _FILE variants');
    if (!config.policyFile) throw new FerryError(ErrorCode.ConfigInvalid, 'FERRY_POLICY_FILE is not set: Slack needs a policy saying who may request and approve (see README)');
    // Jobs cross Redis to other processes: they need a key those workers share (job-signature.ts).
    if (!values.worker && !config.jobKey) throw noJobKey('a bot without --worker');
    const policy = await readPolicyFile(config.policyFile);
    let ops: OpsEndpoints | undefined;
    const routes = opsRoutes(() => ops);
    const slack = createSlackApp({ botToken: s.botToken, signingSecret: s.signingSecret, appToken: s.appToken, port: s.port, slackApiUrl: s.apiUrl, routes }, logger());
    const rt = await startRuntime(config, slack.transport, policy, { worker: Boolean(values.worker) });
    ops = rt.ops;
    slack.bind(rt.service);
    await slack.app.start();
    io.err(`ferry bot: Slack ${s.appToken ? 'Socket Mode' : `HTTP on :${s.port}`}${values.worker ? ', with a worker' : ''}`);
    await waitForSignal();
    await slack.app.stop();
    await rt.close();
    return 0;
  },
};

/** `ferry worker`: runs queued migrations; SIGTERM lets the running ones finish (or roll back). */
export const workerCommand: Command = {
  name: 'worker',
  synopsis: 'ferry worker',
  summary: 'run queued migrations (needs REDIS_URL); SIGTERM lets running ones finish or roll back',
  details: [
    'REDIS_URL           the Redis its bot uses (required), and FERRY_JOB_KEY_FILE, the key bot and workers share (required)',
    'FERRY_HEALTH_PORT   serve /healthz and /metrics on this port. Unset (the default) the worker serves neither:',
    '                    set it to probe or scrape a worker (docker-compose.yml sets 3001). A worker inside ferry bot',
    "                    --worker is on the bot's FERRY_HTTP_PORT instead; the console chat (ferry start) serves neither",
    'FERRY_HEALTH_HOST   the address they listen on (default: every address; compose: 127.0.0.1)',
  ].join('\n'),
  async run(args, io) {
    parseFlags(args, {}, this.synopsis);
    const config = loadConfig();
    if (!config.redisUrl) throw new FerryError(ErrorCode.ConfigInvalid, 'REDIS_URL is not set: a standalone worker needs the Redis its bot uses');
    if (!config.jobKey) throw noJobKey('a standalone worker');
    const { redis } = await connectRedis(config);
    const worker = createMigrationWorker(redis, config, { concurrency: config.workerConcurrency, provision: config.provisionBeforeMigrate });
    const recovery = startRecovery(redis, config, { onReport: (r) => io.err(`ferry worker: recovered ${r.id} (${r.container}): ${r.outcome}${r.runsOn ? `, runs on ${r.runsOn}` : ''}${r.error ? `: ${r.error}` : ''}`) });
    const redisHealth = redisCheck(redis);
    const queue = new MigrationQueue(redis);
    const health = config.workerHealthPort ? opsServer(config.workerHealthPort, { checks: [redisHealth, workerCheck(worker)], metrics: ferryMetrics(), queue: queue.queue }, config.workerHealthHost) : undefined;
    io.err(`ferry worker: concurrency ${config.workerConcurrency}; ${config.workerHealthPort ? `/healthz and /metrics on ${config.workerHealthHost ?? '*'}:${config.workerHealthPort}` : 'no /healthz or /metrics (FERRY_HEALTH_PORT is unset)'}`);
    await waitForSignal();
    io.err('ferry worker: closing (waiting for running migrations)');
    recovery.stop();
    await worker.close();
    health?.close();
    redisHealth.close();
    await queue.close();
    redis.disconnect();
    return 0;
  },
};

function noJobKey(who: string): FerryError {
  return new FerryError(
    ErrorCode.ConfigInvalid,
    `${who} needs the job key its bot and workers share: set FERRY_JOB_KEY_FILE (or FERRY_JOB_KEY) to at least 32 random bytes, e.g. from 'openssl rand -hex 32', the same for every bot and worker`,
  );
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}
