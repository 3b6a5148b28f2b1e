/**
 * Host key types Ferry can pin, in the order ssh2 (Ferry's SSH client) prefers them by default.
 * When a host has several keys, the first of these is pinned, so the key the client would negotiate
 * anyway is the one checked.
 */
export const HOST_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;

const BLOB = /^[A-Za-z0-9+/]+={0,2}$/;

/** `type blob` when `type` is a key type Ferry pins and `blob` is base64; else null. */
export function normalizeHostKey(type: string, blob: string): string | null {
  if (!(HOST_KEY_TYPES as readonly string[]).includes(type) || !BLOB.test(blob)) return null;
  return `${type} ${blob}`;
}

/** The preferred key of several (`type blob` strings), by {@link HOST_KEY_TYPES}; undefined for none. */
export function preferredHostKey(keys: readonly string[]): string | undefined {
  const rank = (k: string) => (HOST_KEY_TYPES as readonly string[]).indexOf(k.split(' ')[0]!);
  return [...keys].filter((k) => rank(k) >= 0).sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * The host key algorithms to offer the server for a pinned key. Without this restriction a server
 * with several keys may present one that is not the pinned one, and a correct host would be
 * refused as a mismatch (OpenSSH orders its offer by known_hosts for the same reason).
 * Undefined (ssh2's defaults) for a type Ferry does not know.
 */
export function hostKeyAlgorithms(hostKey: string): string[] | undefined {
  const type = hostKey.trim().split(/\s+/)[0] ?? '';
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return (HOST_KEY_TYPES as readonly string[]).includes(type) ? [type] : undefined;
}
