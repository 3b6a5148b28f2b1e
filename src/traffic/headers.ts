/**
 * Header rewriting for a one-hop HTTP/1.1 proxy (RFC 9110 §7.6.1). Works on raw header
 * arrays (name, value, name, value, ...) so case and repeated headers survive the hop.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Names the sender listed in Connection: those are hop-by-hop too. */
function connectionListed(raw: readonly string[]): Set<string> {
  const listed = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) listed.add(t);
    }
  }
  return listed;
}

/** Drops hop-by-hop headers and any name in `drop` (lower case). */
export function stripHopByHop(raw: readonly string[], drop: readonly string[] = []): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || drop.includes(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * Headers for the copy sent to the target. The body is already buffered, so framing is
 * re-stated as Content-Length; Expect is dropped because the body goes out at once.
 */
export function upstreamRequestHeaders(raw: readonly string[], bodyLength: number, hadBody: boolean, fallbackHost: string): string[] {
  const out = stripHopByHop(raw, ['content-length', 'expect']);
  if (hadBody || bodyLength > 0) out.push('Content-Length', String(bodyLength));
  // HTTP/1.0 clients may omit Host; the target still needs one.
  if (!hasHeader(out, 'host')) out.push('Host', fallbackHost);
  return out;
}

/** Headers relayed back to the client: Node re-frames the body, so only end-to-end ones pass. */
export function clientResponseHeaders(raw: readonly string[]): string[] {
  return stripHopByHop(raw);
}

export function hasHeader(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return true;
  return false;
}

/** Content-Length as a number, or null when absent or not a plain decimal (Node rejects those anyway). */
export function declaredLength(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}
