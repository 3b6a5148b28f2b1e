import { loadConfig } from '../../config.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { Lab } from '../../infra/lab.ts';
import { listContainers } from '../../hosts/containers.ts';
import { withHosts } from '../../hosts/session.ts';
import path from 'node:path';
import { ConsoleChat, defaultConsolePolicy } from '../../chat/console/ConsoleChat.ts';
import { readPolicyFile } from '../../chat/core/policy-file.ts';
import { connectRedis, healthServer, startRuntime } from '../../chat/runtime.ts';
import { createSlackApp } from '../../chat/slack/SlackApp.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { loadHostsFile } from '../../hosts/inventory.ts';
import { logger } from '../../log.ts';
import { createMigrationWorker } from '../../queue/MigrationWorker.ts';
import { parseFlags, type Output } from '../main.ts';

export const DEMO_CONTAINER = 'web1';

/**
 * The embedded default: a local two-host lab, provisioned, with the web workload running.
 * Returns where web1 runs now.
 */
export async function ensureDemo(io: Output): Promise<{ host: string; hosts: string[] }> {
  const config = loadConfig();
  const file = await new Lab(config, (m) => io.err(m)).up(2);
  io.err('provisioning the lab hosts (ansible)');
  await runPlaybook('provision.yml', file.inventoryFile);
  const names = file.hosts.map((h) => h.name);
  const where = await withHosts('all', async (hosts) => {
    for (const h of hosts) if ((await listContainers(h)).some((c) => c.name === DEMO_CONTAINER && c.status === 'running')) return h.name;
    return null;
  });
  if (where) return { host: where, hosts: names };
  io.err(`deploying the web workload ${DEMO_CONTAINER} (256 MiB) on ${names[0]}`);
  await runPlaybook('workload.yml', file.inventoryFile, { limit: names[0], extraVars: { workload: 'web', name: DEMO_CONTAINER, ballast_mib: 256, port: 8080, replace: true } });
  return { host: names[0]!, hosts: names };
}

/**
 * `ferry start`: the embedded default. With Slack tokens, the Slack bot plus a worker; without,
 * the console chat on the local lab (its own Redis when REDIS_URL is unset).
 */
export async function startCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, { 'no-lab': { type: 'boolean' } });
  const config = loadConfig();
  if (config.slack.botToken) return botCommand(['--worker'], io);
  if (!values['no-lab']) {
    const demo = await ensureDemo(io);
    io.err(`${DEMO_CONTAINER} runs on ${demo.host}; try: /migrate ${DEMO_CONTAINER} from ${demo.host} to ${demo.hosts.find((h) => h !== demo.host)}`);
  }
  const file = await loadHostsFile(config.hostsFile);
  const policy = config.policyFile ? await readPolicyFile(config.policyFile) : defaultConsolePolicy([...new Set(file.hosts.map((h) => h.environment))]);
  const chat = new ConsoleChat((s) => io.out(s), path.join(config.labDir, 'uploads'));
  const rt = await startRuntime(config, chat.transport, policy, { worker: true });
  try {
    await chat.run(rt.service, process.stdin, () => rt.idle(), Boolean(process.stdin.isTTY));
  } finally {
    await rt.close();
  }
  return 0;
}

/** `ferry bot [--worker]`: the Slack app (HTTP or Socket Mode) and the progress relay. */
export async function botCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, { worker: { type: 'boolean' } });
  const config = loadConfig();
  const s = config.slack;
  if (!s.botToken) throw new FerryError(ErrorCode.ConfigInvalid, 'SLACK_BOT_TOKEN is not set: the Slack bot needs it (or run `ferry start` for the console chat)');
  if (!s.signingSecret && !s.appToken) throw new FerryError(ErrorCode.ConfigInvalid, 'set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  if (!config.policyFile) throw new FerryError(ErrorCode.ConfigInvalid, 'FERRY_POLICY_FILE is not set: Slack needs a policy saying who may request and approve (see README)');
  const policy = await readPolicyFile(config.policyFile);
  const slack = createSlackApp({ botToken: s.botToken, signingSecret: s.signingSecret, appToken: s.appToken, port: s.port, slackApiUrl: s.apiUrl }, logger());
  const rt = await startRuntime(config, slack.transport, policy, { worker: Boolean(values.worker) });
  slack.bind(rt.service);
  await slack.app.start();
  io.err(`ferry bot: Slack ${s.appToken ? 'Socket Mode' : `HTTP on :${s.port}`}${values.worker ? ', with a worker' : ''}`);
  await waitForSignal();
  await slack.app.stop();
  await rt.close();
  return 0;
}

/** `ferry worker`: runs queued migrations; SIGTERM lets the running ones finish (or roll back). */
export async function workerCommand(_args: string[], io: Output): Promise<number> {
  const config = loadConfig();
  if (!config.redisUrl) throw new FerryError(ErrorCode.ConfigInvalid, 'REDIS_URL is not set: a standalone worker needs the Redis its bot uses');
  const { redis } = await connectRedis(config);
  const worker = createMigrationWorker(redis, config, { concurrency: config.workerConcurrency, provision: config.provisionBeforeMigrate });
  const health = config.workerHealthPort ? healthServer(config.workerHealthPort, () => worker.isRunning()) : undefined;
  io.err(`ferry worker: concurrency ${config.workerConcurrency}`);
  await waitForSignal();
  io.err('ferry worker: closing (waiting for running migrations)');
  await worker.close();
  health?.close();
  redis.disconnect();
  return 0;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}
