import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage, isFerryError } from '../errors.ts';
import { labCommand } from './commands/lab.ts';
import { hostsCommand, psCommand } from './commands/hosts.ts';
import { deployCommand, frontCommand, provisionCommand } from './commands/provision.ts';
import { migrateCommand } from './commands/migrate.ts';
import { benchCommand } from './commands/bench.ts';
import { botCommand, startCommand, workerCommand } from './commands/start.ts';

export const USAGE = `ferry: live-migrate runc containers between hosts with CRIU

Usage:
  ferry start [--no-lab]          the embedded default: local lab + console chat (Slack when SLACK_BOT_TOKEN is set)
  ferry bot [--worker]            the Slack bot (HTTP or Socket Mode) and progress relay
  ferry worker                    run queued migrations (REDIS_URL)
  ferry lab up [--hosts N] [--provider local|qemu]
                                  create the lab (default: 2 namespace hosts lab-1, lab-2; qemu: VMs with a stock kernel)
  ferry lab down                  remove the lab: namespaces, processes, mounts, bridge
  ferry lab status                show each lab host and whether it is whole
  ferry hosts [--json]            inventory hosts with CRIU version and kernel features
  ferry ps [--json]               containers per host, with memory
  ferry provision [--limit H]     run playbooks/provision.yml on the inventory
  ferry deploy web|kv NAME --on HOST [--mib N] [--dirty-mib-per-s R] [--port P] [--replace]
                                  deploy a workload container (playbooks/workload.yml)
  ferry front NAME --on HOST [--port P] [--frontend-port F]
                                  put HAProxy in front of a container (playbooks/haproxy.yml)
  ferry migrate NAME --from HOST --to HOST [--method M] [--json] [--hold|--no-hold] [--probe N [--probe-post]]
                                  move a running container; methods: auto normal page-server
                                  precopy pc-ps pc-ps-rsync lazy pc-lazy (default auto)
  ferry bench [--runs N] [--mib N] [--methods a,b]
                                  reproduce Table II: every method the hosts support, side by side
  ferry help
`;

export type CommandFn = (args: string[], out: Output) => Promise<number>;

export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

const commands: Record<string, CommandFn> = {
  lab: labCommand,
  hosts: hostsCommand,
  ps: psCommand,
  provision: provisionCommand,
  deploy: deployCommand,
  front: frontCommand,
  migrate: migrateCommand,
  bench: benchCommand,
  start: startCommand,
  bot: botCommand,
  worker: workerCommand,
};

export async function main(argv: string[], io: Output = stdio()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(USAGE);
    return cmd ? 0 : 2;
  }
  const fn = commands[cmd];
  if (!fn) {
    io.err(`ferry: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  try {
    loadConfig(); // fail fast on a bad environment, before any work
    return await fn(rest, io);
  } catch (e) {
    if (isFerryError(e)) {
      io.err(`ferry: ${e.message} [${e.code}]`);
      return e.code === ErrorCode.UsageError || e.code === ErrorCode.InvalidName ? 2 : 1;
    }
    io.err(`ferry: ${errorMessage(e)}`);
    return 1;
  }
}

function stdio(): Output {
  return {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** parseArgs with Ferry's error: unknown flags become a usage error naming the flag. */
export function parseFlags<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new FerryError(ErrorCode.UsageError, `${errorMessage(e)}\n\n${USAGE}`);
  }
}
