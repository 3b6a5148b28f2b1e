import { ErrorCode, FerryError } from '../../errors.ts';
import type { RemoteHost } from '../../hosts/RemoteHost.ts';
import type { LinkShaper } from './LinkShaper.ts';
import { describeProfile, needsDelayOrLoss, type LinkProfile } from './profile.ts';
import { NETEM_PROBE, clearArgv, isNothingToClear, isUnknownQdisc, parseRouteDev, routeGetArgv, shapeArgv } from './tc.ts';

/** The address other hosts reach a host at: what migrations (page servers, rsync) use. */
const peerAddressOf = (h: RemoteHost) => h.spec.peerAddress ?? h.spec.address;

/**
 * Shapes the lab's link on the hosts themselves: on each host, traffic toward the other hosts goes
 * through an HTB class at the profile's rate (egress of both ends, so both directions are shaped),
 * with netem beneath it for delay and loss where the host's kernel has netem. The namespace lab's
 * hosts are network namespaces, so `tc` over SSH shapes each one's own eth0; the qemu lab's are VMs.
 */
export class HtbShaper implements LinkShaper {
  readonly kind = 'htb';
  private readonly devs = new Map<string, string>();

  /** @param hosts the hosts whose link is shaped, each toward all the others */
  constructor(private readonly hosts: readonly RemoteHost[]) {
    if (hosts.length < 2) throw new FerryError(ErrorCode.Internal, 'a link joins at least two hosts');
  }

  private peersOf(h: RemoteHost): string[] {
    return this.hosts.filter((x) => x !== h).map(peerAddressOf);
  }

  /** The interface the host reaches its first peer through. */
  private async dev(h: RemoteHost): Promise<string> {
    const known = this.devs.get(h.name);
    if (known) return known;
    const peer = this.peersOf(h)[0]!;
    const r = await h.exec(routeGetArgv(peer), { timeoutS: 30, idempotent: true });
    const dev = r.code === 0 ? parseRouteDev(r.stdout) : null;
    if (!dev) throw new FerryError(ErrorCode.LinkShapingFailed, `${h.name} has no route to its peer ${peer} ('ip route get ${peer}': ${(r.stderr || r.stdout).trim() || `exit ${r.code}`})`, { details: { host: h.name } });
    this.devs.set(h.name, dev);
    return dev;
  }

  async blocker(profile: LinkProfile): Promise<string | null> {
    if (profile.mbit === null && !needsDelayOrLoss(profile)) return null;
    for (const h of this.hosts) {
      const tc = await h.exec(['tc', '-V'], { timeoutS: 30, idempotent: true });
      if (tc.code !== 0) return `tc (Debian's iproute2) is not installed on ${h.name}: run playbooks/provision.yml or install iproute2`;
      try {
        await this.dev(h);
      } catch (e) {
        return (e as Error).message;
      }
    }
    if (!needsDelayOrLoss(profile)) return null;
    for (const h of this.hosts) {
      const r = await h.exec(NETEM_PROBE, { timeoutS: 30, idempotent: true });
      if (r.code !== 0) {
        const kernel = (await h.exec(['uname', '-r'], { timeoutS: 30, idempotent: true })).stdout.trim();
        return (
          `${describeProfile(profile)} needs netem for its ${profile.rttMs > 0 ? 'round trip' : 'loss'}, and ${h.name}'s kernel ${kernel} has none ` +
          `('modprobe sch_netem' failed). This lab can shape the rate only: use --link 0,${profile.mbit ?? 200} for the same rate without delay, ` +
          'or a lab that provides the delay (the two-cloud lab, between its gateways)'
        );
      }
    }
    return null;
  }

  async apply(profile: LinkProfile): Promise<string> {
    await this.clear();
    if (profile.mbit === null && !needsDelayOrLoss(profile)) return 'none (the bare link)';
    const devs: string[] = [];
    for (const h of this.hosts) {
      const dev = await this.dev(h);
      devs.push(`${dev} of ${h.name}`);
      for (const argv of shapeArgv({ dev, peers: this.peersOf(h) }, profile)) {
        const r = await h.exec(argv, { timeoutS: 30 });
        if (r.code === 0) continue;
        await this.clear().catch(() => undefined);
        if (isUnknownQdisc(r.stderr)) {
          throw new FerryError(ErrorCode.LinkUnsupported, `${h.name}'s kernel has no ${argv.find((a) => a === 'netem' || a === 'htb') ?? 'such'} queueing discipline: ${r.stderr.trim()}`, { details: { host: h.name, argv } });
        }
        throw new FerryError(ErrorCode.LinkShapingFailed, `${argv.slice(0, 3).join(' ')} failed on ${h.name} (exit ${r.code}): ${r.stderr.trim()}`, { details: { host: h.name, argv } });
      }
    }
    const how = [profile.mbit !== null ? `HTB ${profile.mbit} Mbit/s` : 'HTB (no rate limit)'];
    if (profile.rttMs > 0) how.push(`netem ${profile.rttMs / 2} ms each way`);
    if (profile.lossPct > 0) how.push(`netem ${profile.lossPct} % loss each way`);
    return `${how.join(' + ')} on ${devs.join(' and ')}, for traffic between the hosts only`;
  }

  async clear(): Promise<void> {
    for (const h of this.hosts) {
      const dev = await this.dev(h);
      const r = await h.exec(clearArgv(dev), { timeoutS: 30, idempotent: true });
      if (r.code !== 0 && !isNothingToClear(r.stderr)) {
        throw new FerryError(ErrorCode.LinkShapingFailed, `could not remove the shaping of ${dev} on ${h.name} (exit ${r.code}): ${r.stderr.trim()}`, { details: { host: h.name } });
      }
    }
  }
}
