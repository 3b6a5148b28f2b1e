import { ErrorCode, FerryError } from '../errors.ts';

/** A chart's whole size in SVG units; below `min` its axes and legends would not fit. */
export function checkSize(width: number, height: number, min: { width: number; height: number }): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < min.width || height < min.height) {
    throw new FerryError(ErrorCode.ChartInvalid, `chart size ${width}x${height} is too small: it needs at least ${min.width}x${min.height} (whole integers)`, { details: { width, height } });
  }
}
