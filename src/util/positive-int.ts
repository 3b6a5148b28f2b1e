import { ErrorCode, FerryError } from '../errors.ts';

/**
 * An option of the hold server or the load probe, checked up front so a typo fails at construction,
 * not mid-migration: `value` (else `fallback`) must be a positive integer (or zero, with `allowZero`).
 * @throws FerryError `ferry_traffic_invalid_option` naming the option (`details.option`).
 */
export function positiveInt(name: string, value: number | undefined, fallback: number, { allowZero = false } = {}): number {
  const v = value ?? fallback;
  const ok = Number.isInteger(v) && (allowZero ? v >= 0 : v > 0);
  if (!ok) throw new FerryError(ErrorCode.TrafficInvalidOption, `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`, { details: { option: name, value } });
  return v;
}
