import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, declaredLength, stripHopByHop, upstreamRequestHeaders } from '../../src/traffic/headers.ts';
import { retryDelayMs } from '../../src/traffic/forward.ts';

describe('headers', () => {
  it('drops hop-by-hop headers and those listed in Connection, keeping case and repeats', () => {
    const raw = ['Host', 'a', 'Connection', 'close, X-Hop', 'X-Hop', '1', 'Keep-Alive', 't=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'TE', 'trailers', 'X-Kept', '1', 'x-kept', '2'];
    expect(stripHopByHop(raw)).toEqual(['Host', 'a', 'X-Kept', '1', 'x-kept', '2']);
    expect(clientResponseHeaders(['Set-Cookie', 'a', 'Set-Cookie', 'b', 'Connection', 'keep-alive'])).toEqual(['Set-Cookie', 'a', 'Set-Cookie', 'b']);
  });

  it('re-frames the buffered body as Content-Length and drops Expect', () => {
    const raw = ['Host', 'svc', 'Transfer-Encoding', 'chunked', 'Expect', '100-continue', 'Content-Type', 'x'];
    expect(upstreamRequestHeaders(raw, 42, true, 'fallback:1')).toEqual(['Host', 'svc', 'Content-Type', 'x', 'Content-Length', '42']);
    expect(upstreamRequestHeaders(['Accept', '*/*'], 0, false, '10.0.0.2:8080')).toEqual(['Accept', '*/*', 'Host', '10.0.0.2:8080']);
    expect(upstreamRequestHeaders(['Host', 'h', 'Content-Length', '0'], 0, true, 'f')).toEqual(['Host', 'h', 'Content-Length', '0']);
  });

  it('parses Content-Length strictly', () => {
    expect(declaredLength('12')).toBe(12);
    expect(declaredLength(undefined)).toBeNull();
    expect(declaredLength('1e3')).toBeNull();
    expect(declaredLength('-1')).toBeNull();
  });

  it('backs off between connect retries, capped', () => {
    expect([1, 2, 3, 4, 5, 10].map((a) => retryDelayMs(a))).toEqual([25, 50, 100, 200, 250, 250]);
  });
});
