import { describeProfile, type LinkProfile } from './profile.ts';
import type { LinkShaper } from './LinkShaper.ts';

/** Same delay, rate and loss (the names may differ: `wan` and `30ms-200mbit` are one link). */
export function sameLink(a: LinkProfile, b: LinkProfile): boolean {
  return a.rttMs === b.rttMs && a.mbit === b.mbit && a.lossPct === b.lossPct;
}

/**
 * A two-cloud lab's WAN as the benchmark's link: already shaped by the lab itself (HTB on the
 * gateways' WAN legs, the relay's delay and loss, WireGuard between the gateways), so nothing is
 * applied or removed here; another profile needs the lab brought up with it.
 */
export class LabWan implements LinkShaper {
  readonly kind = 'two-cloud-wan';

  constructor(private readonly lab: LinkProfile) {}

  async blocker(profile: LinkProfile): Promise<string | null> {
    if (sameLink(profile, this.lab)) return null;
    return `this two-cloud lab's WAN is ${describeProfile(this.lab)}: run ferry bench without --link to use it, or bring the lab up with that link first (ferry lab up --topology two-clouds --link ${profile.name})`;
  }

  async apply(): Promise<string> {
    return `the two-cloud lab's WAN, ${describeProfile(this.lab)} (HTB on the gateways' WAN legs, a UDP relay for the delay, WireGuard between the gateways)`;
  }

  async clear(): Promise<void> {}
}
