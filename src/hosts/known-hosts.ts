import { createHmac, timingSafeEqual } from 'node:crypto';
import { normalizeHostKey, preferredHostKey } from './host-key.ts';

/** One usable line of an OpenSSH known_hosts file (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"). */
export interface KnownHostsEntry {
  /** `@revoked` lines name keys that must never be accepted; `@cert-authority` lines are skipped (Ferry pins plain keys). */
  revoked: boolean;
  /** Comma-separated host patterns of the line: names, `[name]:port`, wildcards, `!negations`, or one hashed `|1|salt|hash`. */
  patterns: string[];
  /** `type blob`. */
  key: string;
}

/**
 * Parses known_hosts text. Lines Ferry cannot use (comments, certificate authorities, key types it
 * does not pin, malformed lines) are skipped, as OpenSSH skips what it cannot read.
 */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]!.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@cert-authority') continue;
      if (marker !== '@revoked') continue;
      revoked = true;
    }
    const [hosts, type, blob] = fields;
    if (!hosts || !type || !blob) continue;
    const key = normalizeHostKey(type, blob);
    if (key) entries.push({ revoked, patterns: hosts.split(','), key });
  }
  return entries;
}

/** The name OpenSSH looks up for a connection: `host` on port 22, else `[host]:port`; lowercase. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/**
 * Whether a line's patterns match `name` (as from {@link knownHostsName}), with OpenSSH's rules:
 * any matching negated pattern rejects the line; hashed names are HMAC-SHA1 of the name keyed with
 * the salt (`|1|base64 salt|base64 hash`).
 */
export function patternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('|')) {
      if (hashedMatches(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      if (globMatches(p.slice(1), name)) return false;
    } else if (globMatches(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** `|1|salt|hash` against a name: HMAC-SHA1(key = salt, message = name) = hash. */
export function hashedMatches(pattern: string, name: string): boolean {
  const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(pattern);
  if (!m) return false;
  const salt = Buffer.from(m[1]!, 'base64');
  const want = Buffer.from(m[2]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** OpenSSH's `*` and `?` wildcards, case-insensitively (names are lowercased, patterns may not be). */
function globMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name;
  const re = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`).test(name);
}

/**
 * The keys recorded for `name` across the files in order (the first file with any key wins, as
 * OpenSSH reads UserKnownHostsFile before the global file), minus any key marked `@revoked` in any
 * of them; the preferred type is picked by {@link preferredHostKey}.
 */
export function lookupHostKey(files: readonly (readonly KnownHostsEntry[])[], name: string): string | undefined {
  const revoked = new Set(files.flat().filter((e) => e.revoked && patternsMatch(e.patterns, name)).map((e) => e.key));
  for (const entries of files) {
    const keys = entries.filter((e) => !e.revoked && !revoked.has(e.key) && patternsMatch(e.patterns, name)).map((e) => e.key);
    if (keys.length > 0) return preferredHostKey(keys);
  }
  return undefined;
}
