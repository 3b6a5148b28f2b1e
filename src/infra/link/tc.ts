/**
 * tc command lines for shaping one host's traffic toward its peers (pure: built and parsed here,
 * run over SSH by HtbShaper). Only traffic to the peers goes through the shaped class, so the
 * controller's SSH sessions, health checks and load probe keep the bare link.
 */
import { ErrorCode, FerryError } from '../../errors.ts';
import { needsDelayOrLoss, type LinkProfile } from './profile.ts';

/** Traffic not bound for a peer: an HTB class must have a rate, so a rate no lab link reaches. */
export const UNSHAPED_RATE = '40gbit';

/** Interface names as the kernel allows them (15 characters), with no leading dash tc would read as an option. */
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

export interface ShapeTarget {
  /** The host's interface toward its peers (`ip route get <peer>`). */
  dev: string;
  /** The addresses of its peers (their peer addresses: the path migrations take). */
  peers: readonly string[];
}

function checkTarget(t: ShapeTarget): void {
  if (!IFNAME.test(t.dev)) throw new FerryError(ErrorCode.LinkShapingFailed, `'${t.dev}' is not an interface name tc can be given`);
  if (t.peers.length === 0) throw new FerryError(ErrorCode.Internal, 'a link is shaped toward at least one peer');
  for (const p of t.peers) {
    if (!IPV4.test(p) && !(p.includes(':') && IPV6.test(p))) {
      throw new FerryError(ErrorCode.LinkShapingFailed, `peer address '${p}' is not an IP address: the shaper matches peers by address (give hosts a numeric peer address)`);
    }
  }
}

/** "200mbit", "0.5mbit" (tc's own unit syntax). */
const rate = (mbit: number) => `${Number(mbit.toFixed(3))}mbit`;

/**
 * Packets netem may hold: a delay of d ms at r Mbit/s keeps r·d/8 kB in flight each way; four
 * times that in 1500-byte packets, and never below netem's default of 1000.
 */
export function netemLimit(mbit: number | null, delayMs: number): number {
  if (mbit === null || delayMs <= 0) return 1000;
  const inFlightPackets = (mbit * 1e6 * (delayMs / 1000)) / 8 / 1500;
  return Math.max(1000, Math.ceil(inFlightPackets * 4));
}

/**
 * The commands that shape `t.dev` for `profile`, after {@link clearArgv}: an HTB root whose
 * default class is unshaped, a class at the profile's rate (with netem beneath it for half the
 * round trip and the loss, since the other half is added by the peer's own egress), and one u32
 * filter per peer sending its traffic into that class. `lan` gives no commands.
 */
export function shapeArgv(t: ShapeTarget, profile: LinkProfile): string[][] {
  checkTarget(t);
  if (profile.mbit === null && !needsDelayOrLoss(profile)) return [];
  const dev = t.dev;
  const shaped = profile.mbit === null ? UNSHAPED_RATE : rate(profile.mbit);
  const cmds: string[][] = [
    ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '1'],
    ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', UNSHAPED_RATE],
    ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', shaped, 'ceil', shaped],
  ];
  if (needsDelayOrLoss(profile)) {
    const delay = profile.rttMs / 2;
    const netem = ['tc', 'qdisc', 'add', 'dev', dev, 'parent', '1:10', 'handle', '10:', 'netem', 'limit', String(netemLimit(profile.mbit, delay))];
    if (delay > 0) netem.push('delay', `${Number(delay.toFixed(3))}ms`);
    if (profile.lossPct > 0) netem.push('loss', `${Number(profile.lossPct.toFixed(3))}%`);
    cmds.push(netem);
  }
  for (const p of t.peers) {
    const v6 = p.includes(':');
    cmds.push(['tc', 'filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', v6 ? 'ipv6' : 'ip', 'prio', '1', 'u32', 'match', v6 ? 'ip6' : 'ip', 'dst', `${p}/${v6 ? 128 : 32}`, 'flowid', '1:10']);
  }
  return cmds;
}

/** Removes whatever root qdisc the interface has (and with it every class and filter beneath). */
export function clearArgv(dev: string): string[] {
  if (!IFNAME.test(dev)) throw new FerryError(ErrorCode.LinkShapingFailed, `'${dev}' is not an interface name tc can be given`);
  return ['tc', 'qdisc', 'del', 'dev', dev, 'root'];
}

/** tc's answers when there was nothing to delete: clearing an unshaped link is not a failure. */
export function isNothingToClear(stderr: string): boolean {
  return /No such file or directory|Cannot delete qdisc with handle of zero|Cannot find specified qdisc/i.test(stderr);
}

/** tc's answer when the kernel has no netem (this machine's kernel, for one). */
export function isUnknownQdisc(stderr: string): boolean {
  return /Specified qdisc kind is unknown|unknown qdisc/i.test(stderr);
}

export function routeGetArgv(peer: string): string[] {
  return ['ip', '-o', 'route', 'get', peer];
}

/** The interface of `ip -o route get <addr>` ("10.247.0.12 dev eth0 src 10.247.0.11 uid 0 \ cache"), or null. */
export function parseRouteDev(out: string): string | null {
  const m = /\bdev\s+(\S+)/.exec(out);
  return m && IFNAME.test(m[1]!) ? m[1]! : null;
}

/** Loads netem where it is a module; exits 0 when it is loaded, built in, or loadable. */
export const NETEM_PROBE: readonly string[] = ['modprobe', '-q', 'sch_netem'];
