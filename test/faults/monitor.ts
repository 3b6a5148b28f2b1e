import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';
import { findHost } from '../../src/hosts/inventory.ts';
import { containerState, listedState } from '../../src/migrate/host-state.ts';
import { config, hostsFile } from '../helpers/lab.ts';

const pexec = promisify(execFile);

/** What the monitor saw of a container on one host at one instant. */
export type Seen = 'running' | 'frozen' | 'paused' | 'stopped' | 'absent' | 'unreadable';

/**
 * A container's state on a namespace-lab host, read from the host's own namespaces (nsenter into
 * its sshd), never over SSH: the faults cut SSH and links, and the monitor must keep seeing.
 * `running` only when the container's init really runs (not held under ptrace by a dump).
 */
export async function seeOnLabHost(host: string, name: string): Promise<Seen> {
  let pid: string;
  try {
    pid = (await readFile(path.join(config.labDir, 'hosts', host, 'sshd.pid'), 'utf8')).trim();
  } catch {
    return 'unreadable';
  }
  try {
    const { stdout } = await pexec('nsenter', ['-t', pid, '-m', '-n', 'runc', '--root', '/run/ferry/runc', 'state', name], { timeout: 5000 });
    const st = JSON.parse(stdout) as { status: string; pid: number };
    if (st.status !== 'running') return listedState(st.status, null);
    return listedState(st.status, await readFile(`/proc/${st.pid}/stat`, 'utf8').catch(() => null));
  } catch (e) {
    const err = e as { stderr?: string; code?: number };
    if (typeof err.stderr === 'string' && /does not exist|no such file/i.test(err.stderr)) return 'absent';
    return err.code === 1 ? 'absent' : 'unreadable';
  }
}

/** How the monitor reads a container's state on a host. */
export type See = (host: string, name: string) => Promise<Seen>;

const viaSsh = new Map<string, RemoteHost>();

/**
 * A container's state on a VM of the qemu lab, as the engine reads it (containerState), over the
 * monitor's own SSH connection (a VM has no namespace to enter from here). It reconnects after a
 * dropped connection; while a link is cut it reads `unreadable` (so, for those 5 s, it cannot see
 * two copies: the checks after the cell can).
 */
export async function seeOverSsh(host: string, name: string): Promise<Seen> {
  let h = viaSsh.get(host);
  if (!h) {
    h = new RemoteHost(findHost(await hostsFile(), host), { reconnectS: 2 });
    viaSsh.set(host, h);
  }
  const state = await containerState(h, name).catch(() => 'unknown' as const);
  return state === 'unknown' ? 'unreadable' : state;
}

/** Closes the monitor's SSH connections (the end of a suite). */
export function closeSshMonitors(): void {
  for (const h of viaSsh.values()) h.dispose();
  viaSsh.clear();
}

export interface MonitorReport {
  samples: number;
  /** Instants at which the container ran on two hosts (must be empty). */
  twice: string[];
  /** The longest stretch during which it ran nowhere, in ms. */
  longestNowhereMs: number;
}

/** Samples every host every `everyMs`; flags any instant with two running copies. */
export class Monitor {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private samples = 0;
  private readonly twice: string[] = [];
  private nowhereSince: number | null = null;
  private longestNowhere = 0;

  constructor(
    private readonly hosts: string[],
    private readonly name: string,
    private readonly see: See,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    return this;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const seen = await Promise.all(this.hosts.map((h) => this.see(h, this.name)));
      this.samples++;
      const now = Date.now();
      const running = this.hosts.filter((_, i) => seen[i] === 'running');
      if (running.length > 1) this.twice.push(`${new Date(now).toISOString()}: ${running.join(' and ')}`);
      if (running.length === 0) this.nowhereSince ??= now;
      else if (this.nowhereSince !== null) {
        this.longestNowhere = Math.max(this.longestNowhere, now - this.nowhereSince);
        this.nowhereSince = null;
      }
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<MonitorReport> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    await this.sample();
    if (this.nowhereSince !== null) this.longestNowhere = Math.max(this.longestNowhere, Date.now() - this.nowhereSince);
    return { samples: this.samples, twice: this.twice, longestNowhereMs: this.longestNowhere };
  }
}
