import type { LinkProfile } from './profile.ts';

/**
 * Emulates a link profile between an environment's hosts. The namespace and qemu labs shape each
 * host's own interface with tc ({@link HtbShaper}); a two-cloud lab shapes the WAN between its
 * gateways (and may add delay with a relay). The benchmark talks to this interface only.
 */
export interface LinkShaper {
  /** Short name for results (`htb`, `htb+netem`, `gateway-relay`). */
  readonly kind: string;
  /**
   * Why `profile` cannot be emulated here, in words for the operator (what is missing, what to use
   * instead), or null when it can. Changes nothing on any host.
   */
  blocker(profile: LinkProfile): Promise<string | null>;
  /**
   * Shapes the link, replacing whatever shaping this shaper left before. Returns how, in words for
   * the results ("HTB 200 Mbit/s on eth0 of lab-1 and eth0 of lab-2, for traffic between the hosts only"; "none (the bare link)").
   */
  apply(profile: LinkProfile): Promise<string>;
  /** Removes the shaping. Idempotent: clearing an unshaped link is fine. */
  clear(): Promise<void>;
}
