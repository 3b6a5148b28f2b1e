import { ErrorCode, FerryError } from '../../errors.ts';

/**
 * The link between two hosts as a benchmark asks for it. `lan` is the lab's bare link; any other
 * profile names a round-trip delay, a rate and a loss, which a {@link LinkShaper} emulates.
 */
export interface LinkProfile {
  /** `lan`, `wan`, or the custom profile's canonical spelling (`30ms-200mbit`, `0ms-100mbit-0.5loss`): it names result files. */
  name: string;
  /** Round trip added to the link, milliseconds; 0 for none. */
  rttMs: number;
  /** Rate limit in Mbit/s each way; null for none (`lan`). */
  mbit: number | null;
  /** Packets lost, percent, each way; 0 for none. */
  lossPct: number;
}

export const LAN: LinkProfile = Object.freeze({ name: 'lan', rttMs: 0, mbit: null, lossPct: 0 });

/** The paper's setting, roughly: two clouds 30 ms apart, 200 Mbit/s between them. */
export const WAN: LinkProfile = Object.freeze({ name: 'wan', rttMs: 30, mbit: 200, lossPct: 0 });

const SYNTAX = "--link takes lan, wan, or RTT-MS,MBIT[,LOSS-%] (e.g. 30,200 or 0,100,0.5)";

/** Decimal number as written (no exponent, no sign), so `1e3` or `-5` are refused rather than read. */
const NUMBER = /^\d+(\.\d+)?$/;

function num(what: string, s: string, text: string): number {
  const t = s.trim();
  if (!NUMBER.test(t)) throw new FerryError(ErrorCode.UsageError, `${SYNTAX}: ${what} '${t}' in '${text}' is not a plain number`);
  return Number(t);
}

/** Shortest decimal spelling of a number for a file name (`0.5`, `200`). */
function short(n: number): string {
  return String(Number(n.toFixed(3)));
}

/**
 * Reads `--link`: `lan`, `wan` (30 ms, 200 Mbit/s) or `<rtt-ms>,<mbit>[,<loss-%>]`.
 * Pure; refuses anything else with the syntax.
 */
export function parseLinkProfile(text: string): LinkProfile {
  const t = text.trim().toLowerCase();
  if (t === 'lan') return LAN;
  if (t === 'wan') return WAN;
  const parts = t.split(',');
  if (parts.length < 2 || parts.length > 3) throw new FerryError(ErrorCode.UsageError, `${SYNTAX} (got '${text}')`);
  const rttMs = num('the round trip', parts[0]!, text);
  const mbit = num('the rate', parts[1]!, text);
  const lossPct = parts[2] === undefined ? 0 : num('the loss', parts[2], text);
  if (rttMs > 10_000) throw new FerryError(ErrorCode.UsageError, `${SYNTAX}: a round trip of ${rttMs} ms is beyond any real link (10,000 ms at most)`);
  if (!(mbit > 0) || mbit > 100_000) throw new FerryError(ErrorCode.UsageError, `${SYNTAX}: the rate must be above 0 and at most 100,000 Mbit/s (got ${mbit})`);
  if (lossPct >= 100) throw new FerryError(ErrorCode.UsageError, `${SYNTAX}: a loss of ${lossPct} % would let nothing through (below 100)`);
  const name = `${short(rttMs)}ms-${short(mbit)}mbit${lossPct > 0 ? `-${short(lossPct)}loss` : ''}`;
  return { name, rttMs, mbit, lossPct };
}

/** "lan (the lab's bare link)", "wan: 30 ms round trip, 200 Mbit/s". */
export function describeProfile(p: LinkProfile): string {
  if (p.mbit === null && p.rttMs === 0 && p.lossPct === 0) return `${p.name} (the lab's bare link, unshaped)`;
  const parts = [`${short(p.rttMs)} ms round trip`, p.mbit === null ? 'no rate limit' : `${short(p.mbit)} Mbit/s`];
  if (p.lossPct > 0) parts.push(`${short(p.lossPct)} % loss each way`);
  return `${p.name}: ${parts.join(', ')}`;
}

/** What a profile needs from the shaper beyond a rate limit. */
export function needsDelayOrLoss(p: LinkProfile): boolean {
  return p.rttMs > 0 || p.lossPct > 0;
}
