/**
 * Two throw-away hosts for the security tests: network namespaces `hx-sec-<id>-a` and `-b` joined
 * by a veth (never `ferry-*`, never the lab's bridge, never the root namespace's firewall). `a` has
 * two addresses, the peer's and a third one (the intruder); `b` is the host under test. Optionally
 * an sshd on the root namespace's loopback whose sessions run inside `b`, so a real RemoteHost (and
 * Ansible) reach `b` over SSH exactly as they reach a lab host.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { HostSpec } from '../../src/hosts/inventory.ts';
import { freePort } from '../../src/util/free-port.ts';

export interface NsResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface NetnsPair {
  id: string;
  nsA: string;
  nsB: string;
  /** The peer's address (on a). */
  peer: string;
  /** Another address on a: not the peer. */
  intruder: string;
  /** b's address. */
  target: string;
  peer6: string;
  intruder6: string;
  target6: string;
  /** A private scratch directory (0700). */
  dir: string;
  /** argv run inside a namespace (`nsenter --net`, which unlike `ip netns exec` keeps /sys and the cgroups). */
  inNs(ns: string, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<NsResult>;
  /** A long-running process inside a namespace, killed at destroy(). */
  spawn(ns: string, argv: string[]): ResultPromise;
  destroy(): Promise<void>;
}

const NETNS_DIR = '/var/run/netns';

/** Why the namespace tests cannot run here, or null. */
export function netnsUnavailable(tools: string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root: it creates network namespaces (hx-sec-*) and runs nft and CRIU in them';
  const missing = tools.filter((t) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', t], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `needs ${missing.join(', ')} on PATH (scripts/setup.sh installs them)` : null;
}

export async function createPair(tag: string): Promise<NetnsPair> {
  const n = (process.pid % 200) + 20;
  const id = `${tag}-${process.pid}`;
  const nsA = `hx-sec-${id}-a`;
  const nsB = `hx-sec-${id}-b`;
  // Interface names: at most 15 characters, and unique machine-wide until moved into a namespace.
  const vA = `hxs${process.pid % 100000}${tag.slice(0, 3)}a`.slice(0, 15);
  const vB = `hxs${process.pid % 100000}${tag.slice(0, 3)}b`.slice(0, 15);
  const dir = await mkdtemp(path.join(tmpdir(), `hx-sec-${tag}-`));
  const spawned: ResultPromise[] = [];
  const pair: NetnsPair = {
    id,
    nsA,
    nsB,
    peer: `10.99.${n}.1`,
    intruder: `10.99.${n}.3`,
    target: `10.99.${n}.2`,
    peer6: `fd99:${n}::1`,
    intruder6: `fd99:${n}::3`,
    target6: `fd99:${n}::2`,
    dir,
    inNs: async (ns, argv, opts = {}) => {
      const r = await execa('nsenter', [`--net=${NETNS_DIR}/${ns}`, ...argv], { reject: false, input: opts.input ?? '', timeout: opts.timeoutMs });
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    spawn: (ns, argv) => {
      const p = execa('nsenter', [`--net=${NETNS_DIR}/${ns}`, ...argv], { reject: false, stdin: 'ignore' });
      spawned.push(p);
      return p;
    },
    destroy: async () => {
      for (const p of spawned) p.kill('SIGKILL');
      await Promise.allSettled(spawned);
      for (const ns of [nsA, nsB]) {
        // Whatever still runs in the namespace (a page server, a daemonized CRIU) goes with it.
        const pids = (await execa('ip', ['netns', 'pids', ns], { reject: false })).stdout.split('\n').filter((l) => /^\d+$/.test(l));
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await execa('ip', ['netns', 'del', ns], { reject: false });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  const ip = (...args: string[]) => execa('ip', args);
  try {
    await ip('netns', 'add', nsA);
    await ip('netns', 'add', nsB);
    await ip('link', 'add', vA, 'type', 'veth', 'peer', 'name', vB);
    await ip('link', 'set', vA, 'netns', nsA);
    await ip('link', 'set', vB, 'netns', nsB);
    await ip('-n', nsA, 'addr', 'add', `${pair.peer}/24`, 'dev', vA);
    await ip('-n', nsA, 'addr', 'add', `${pair.intruder}/24`, 'dev', vA);
    await ip('-n', nsB, 'addr', 'add', `${pair.target}/24`, 'dev', vB);
    await ip('-n', nsA, 'addr', 'add', `${pair.peer6}/64`, 'dev', vA, 'nodad');
    await ip('-n', nsA, 'addr', 'add', `${pair.intruder6}/64`, 'dev', vA, 'nodad');
    await ip('-n', nsB, 'addr', 'add', `${pair.target6}/64`, 'dev', vB, 'nodad');
    for (const [ns, v] of [
      [nsA, vA],
      [nsB, vB],
    ] as const) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', v, 'up');
    }
  } catch (e) {
    await pair.destroy();
    throw e;
  }
  return pair;
}

/** The veth end inside a namespace (for tcpdump -i). */
export async function vethIn(pair: NetnsPair, ns: string): Promise<string> {
  const out = (await pair.inNs(ns, ['ip', '-o', 'link', 'show', 'type', 'veth'])).stdout;
  const m = /^\d+:\s+([^@:\s]+)/.exec(out);
  if (!m) throw new Error(`no veth in ${ns}: ${out}`);
  return m[1]!;
}

export interface SshIntoNs {
  spec: HostSpec;
  knownHosts: string;
  stop(): Promise<void>;
}


/**
 * An sshd on 127.0.0.1 (root namespace) whose every session runs inside `ns`: a real SSH host for
 * RemoteHost and Ansible. Key-only root login with our own keys; HOME points at an empty directory
 * so root's shell start-up files stay out of it.
 */
export async function sshIntoNs(pair: NetnsPair, ns: string, name: string): Promise<SshIntoNs> {
  const dir = path.join(pair.dir, `sshd-${name}`);
  await mkdir(path.join(dir, 'home'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path.join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'controller', '-f', path.join(dir, 'client_key')]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(dir, 'client_key.pub')));
  const port = await freePort();
  await writeFile(
    path.join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `SetEnv HOME=${dir}/home`,
      'MaxSessions 32',
      `ForceCommand exec nsenter --net=${NETNS_DIR}/${ns} /bin/sh -c "$SSH_ORIGINAL_COMMAND"`,
      '',
    ].join('\n'),
  );
  // sshd wants its privilege-separation directory; a lab host has its own /run, the root namespace
  // may lack it. Made here only if missing, and removed again at stop().
  const madePrivsep = !existsSync('/run/sshd');
  if (madePrivsep) await mkdir('/run/sshd', { mode: 0o755 });
  // Its log goes to a file: a pipe would be held open by every session's sshd until it ends.
  const sshd = execa('/usr/sbin/sshd', ['-D', '-E', path.join(dir, 'sshd.log'), '-f', path.join(dir, 'sshd_config')], { reject: false, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (sshd.exitCode !== null) throw new Error(`sshd did not start: ${await readFile(path.join(dir, 'sshd.log'), 'utf8').catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostKey = (await readFile(path.join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  return {
    spec: { name, address: '127.0.0.1', port, user: 'root', privateKeyFile: path.join(dir, 'client_key'), hostKey, environment: 'hx-sec' },
    knownHosts,
    stop: async () => {
      sshd.kill('SIGTERM');
      await sshd;
      if (madePrivsep) await rmdir('/run/sshd').catch(() => undefined);
    },
  };
}
