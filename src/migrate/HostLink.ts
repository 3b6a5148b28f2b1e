import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, FerryError } from '../errors.ts';
import { peerAddressOf, type HostSpec } from '../hosts/inventory.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { HOST_PATHS } from '../hosts/paths.ts';
import { runLocal } from '../util/run-local.ts';
import { parseRsyncSent, RSYNC_VANISHED, rsyncPush } from './commands.ts';

/**
 * A short-lived SSH trust between two hosts for one migration, so images and rootfs go host to
 * host (never through the controller): a fresh key, authorized on both and pinned to each
 * other's host keys, removed when the migration ends. Hosts reach each other at their peer
 * addresses (across the tunnel between clouds), which may not be the controller's way in.
 */
export class HostLink {
  private constructor(
    private readonly id: string,
    private readonly hosts: [RemoteHost, RemoteHost],
  ) {}

  private static dir(id: string) {
    return `${HOST_PATHS.work}/migrations/${id}`;
  }
  private static tag(id: string) {
    return `ferry-link-${id}`;
  }

  static async open(id: string, a: RemoteHost, b: RemoteHost): Promise<HostLink> {
    // Only the peer may use it, and only for a day at most, even if cleanup never runs. Decided
    // before anything is written: a peer without an IP address fails here and leaves nothing.
    const expires = new Date(Date.now() + LINK_KEY_S * 1000);
    const options = new Map([
      [a, keyOptions(b.spec, expires)],
      [b, keyOptions(a.spec, expires)],
    ]);
    const tmp = await mkdtemp(path.join(tmpdir(), 'ferry-link-'));
    try {
      const key = path.join(tmp, 'key');
      await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', HostLink.tag(id), '-f', key]);
      const priv = await readFile(key, 'utf8');
      const pub = (await readFile(`${key}.pub`, 'utf8')).trim();
      const link = new HostLink(id, [a, b]);
      for (const [self, peer] of [
        [a, b],
        [b, a],
      ] as const) {
        const dir = HostLink.dir(id);
        await self.writeFile(`${dir}/key`, priv, '0600');
        await self.writeFile(`${dir}/known_hosts`, `${knownHostsTarget(peer)} ${peer.spec.hostKey}\n`, '0644');
        await self.run(['tee', '-a', authorizedKeys(self)], { stdin: `${options.get(self)!} ${pub}\n`, idempotent: true });
      }
      return link;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Opens the shared SSH connection from `from` to its peer now, before the freeze, so transfers skip the handshake. */
  async warm(from: RemoteHost): Promise<void> {
    const to = this.hosts[0] === from ? this.hosts[1] : this.hosts[0];
    const dir = HostLink.dir(this.id);
    await from.run([
      'ssh', '-i', `${dir}/key`, '-p', String(to.spec.port), '-o', `UserKnownHostsFile=${dir}/known_hosts`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes', '-o', 'ControlMaster=auto', '-o', `ControlPath=${dir}/cm-${to.name}`, '-o', 'ControlPersist=120', `${to.spec.user}@${peerAddressOf(to.spec)}`, 'true',
    ]);
  }

  /**
   * rsync `srcDir` on `from` into `dstDir` on the other host; returns bytes sent. `live`: the
   * directory belongs to a running container (the pre-sync before the freeze), so files that vanish
   * while rsync walks it (rsync's exit 24) are expected: the copy inside the freeze brings the
   * final state. Anywhere else a vanished file is a failure.
   */
  async push(from: RemoteHost, srcDir: string, dstDir: string, opts: { delete?: boolean; excludes?: string[]; live?: boolean } = {}): Promise<number> {
    const to = this.hosts[0] === from ? this.hosts[1] : this.hosts[0];
    const dir = HostLink.dir(this.id);
    const argv = rsyncPush({
      from: srcDir.endsWith('/') ? srcDir : `${srcDir}/`,
      to: `${to.spec.user}@${peerAddressOf(to.spec)}:${dstDir.endsWith('/') ? dstDir : `${dstDir}/`}`,
      sshKey: `${dir}/key`,
      knownHosts: `${dir}/known_hosts`,
      port: to.spec.port,
      delete: opts.delete,
      excludes: opts.excludes,
      controlPath: `${dir}/cm-${to.name}`,
    });
    // rsync converges: after a dropped connection it is simply run again.
    return parseRsyncSent(await from.run(argv, { idempotent: true, okCodes: opts.live ? [RSYNC_VANISHED] : [] }));
  }

  /** The link of a migration whose process is gone (recovery): enough to close it, or to push. */
  static forId(id: string, a: RemoteHost, b: RemoteHost): HostLink {
    return new HostLink(id, [a, b]);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.hosts.map(async (h) => {
        const peer = this.hosts[0] === h ? this.hosts[1] : this.hosts[0];
        // Stop the shared connection's master process, so nothing of this migration keeps running.
        await h.exec(['ssh', '-o', `ControlPath=${HostLink.dir(this.id)}/cm-${peer.name}`, '-O', 'exit', `${peer.spec.user}@${peerAddressOf(peer.spec)}`], { idempotent: true }).catch(() => undefined);
        await h.exec(['sed', '-i', `/ ${HostLink.tag(this.id)}$/d`, authorizedKeys(h)], { idempotent: true }).catch(() => undefined);
        await h.exec(['rm', '-rf', HostLink.dir(this.id)], { idempotent: true }).catch(() => undefined);
      }),
    );
  }
}

function authorizedKeys(h: RemoteHost): string {
  return h.spec.user === 'root' ? '/root/.ssh/authorized_keys' : `/home/${h.spec.user}/.ssh/authorized_keys`;
}

/** How long a link key stays usable if cleanup never removes it. @defaultValue 1 day */
export const LINK_KEY_S = 24 * 3600;

/**
 * The authorized_keys options of a migration's link key on a host (pure): no forwarding, pty or
 * rc (`restrict`); usable only from `peer`'s address as that host sees it, its peer address
 * (across the tunnel between clouds, where no gateway rewrites it), never the controller's way in;
 * and not after `expires`, in OpenSSH's `YYYYMMDDHHMM` with `Z` for UTC (to the minute, rounded
 * down). sshd matches `from=` against the client's IP address only (UseDNS is off by default), so
 * the peer needs an IP address; anything else is refused, which also keeps quotes, commas,
 * wildcards and newlines out of the line.
 */
export function keyOptions(peer: Pick<HostSpec, 'name' | 'address' | 'peerAddress'>, expires: Date): string {
  const addr = peerAddressOf(peer);
  if (net.isIP(addr) === 0 || !/^[0-9A-Fa-f.:]+$/.test(addr)) {
    throw new FerryError(
      ErrorCode.ConfigInvalid,
      `the migration's link key can only be limited to ${peer.name}'s IP address, not '${addr}' (sshd's from= does not match names): give the host an IP address (address or peerAddress in the hosts file, ansible_host in an inventory)`,
      { details: { host: peer.name } },
    );
  }
  const stamp = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(Number.isNaN(expires.getTime()) ? '' : expires.toISOString());
  if (!stamp) throw new FerryError(ErrorCode.Internal, `a link key's expiry must be a date in years 0000-9999, not ${String(expires)}`);
  return `restrict,from="${addr}",expiry-time="${stamp.slice(1).join('')}Z"`;
}

function knownHostsTarget(h: RemoteHost): string {
  const addr = peerAddressOf(h.spec);
  return h.spec.port === 22 ? addr : `[${addr}]:${h.spec.port}`;
}
