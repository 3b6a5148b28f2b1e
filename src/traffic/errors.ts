/**
 * Stable codes for the traffic side (hold server) and the load probe. Kept apart from the
 * engine's ErrorCode so this module stays usable without the rest of Ferry; the prefix
 * matches so callers can still route on `code` alone.
 */
export const TrafficErrorCode = {
  InvalidOption: 'ferry_traffic_invalid_option',
  InvalidTarget: 'ferry_traffic_invalid_target',
  AlreadyListening: 'ferry_traffic_already_listening',
  Closed: 'ferry_traffic_closed',
  ProbeReused: 'ferry_traffic_probe_reused',
} as const;

export type TrafficErrorCode = (typeof TrafficErrorCode)[keyof typeof TrafficErrorCode];

export class TrafficError extends Error {
  readonly code: TrafficErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: TrafficErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TrafficError';
    this.code = code;
    this.details = details;
  }
}

export function isTrafficError(e: unknown, code?: TrafficErrorCode): e is TrafficError {
  return e instanceof TrafficError && (code === undefined || e.code === code);
}

/** Options are checked up front so a typo fails at construction, not mid-migration. */
export function positiveInt(name: string, value: number | undefined, fallback: number, { allowZero = false } = {}): number {
  const v = value ?? fallback;
  const ok = Number.isInteger(v) && (allowZero ? v >= 0 : v > 0);
  if (!ok) throw new TrafficError(TrafficErrorCode.InvalidOption, `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`, { option: name, value });
  return v;
}
