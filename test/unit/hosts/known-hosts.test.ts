import { describe, expect, it } from 'vitest';
import { hostKeyAlgorithms, preferredHostKey } from '../../../src/hosts/host-key.ts';
import { hashedMatches, knownHostsName, lookupHostKey, parseKnownHosts, patternsMatch } from '../../../src/hosts/known-hosts.ts';

// Written by OpenSSH 9.2's `ssh-keygen -H` for '[10.1.2.3]:2222' and 'web.example.org' (same key on both).
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMUWtY32dAArJSRP42Uh+lHj7Zznti2Mzbt7EmM1B1Ag';
const HASHED_PORT = '|1|v29spwYKF1GNZAjrlfqnqi24WEg=|lYGAq6KGqYGlD9EViMOqvIJ0vSc=';
const HASHED_NAME = '|1|3deiEVKvo6OXrgHzbWJCcQQZ/Ro=|CHvGKM0wFzMxa9iC5fa4n37KgSg=';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7';
const ECDSA = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY';

describe('knownHostsName', () => {
  it('is the bare host on port 22 and [host]:port otherwise, lowercased', () => {
    expect(knownHostsName('Web.Example.org', 22)).toBe('web.example.org');
    expect(knownHostsName('10.1.2.3', 2222)).toBe('[10.1.2.3]:2222');
  });
});

describe('hashedMatches', () => {
  it("matches OpenSSH's own hashed entries (HMAC-SHA1 keyed with the salt)", () => {
    expect(hashedMatches(HASHED_PORT, '[10.1.2.3]:2222')).toBe(true);
    expect(hashedMatches(HASHED_NAME, 'web.example.org')).toBe(true);
  });

  it('does not match another name, the host without its port, or a malformed entry', () => {
    expect(hashedMatches(HASHED_PORT, '10.1.2.3')).toBe(false);
    expect(hashedMatches(HASHED_NAME, 'web.example.com')).toBe(false);
    expect(hashedMatches('|1|notbase64!|x', 'web.example.org')).toBe(false);
    expect(hashedMatches('|2|3deiEVKvo6OXrgHzbWJCcQQZ/Ro=|CHvGKM0wFzMxa9iC5fa4n37KgSg=', 'web.example.org')).toBe(false);
  });
});

describe('patternsMatch', () => {
  it.each([
    [['web1', '10.0.0.1'], '10.0.0.1', true],
    [['WEB1'], 'web1', true],
    [['[10.0.0.1]:2222'], '[10.0.0.1]:2222', true],
    [['10.0.0.1'], '[10.0.0.1]:2222', false],
    [['*.example.org'], 'web.example.org', true],
    [['web?.example.org'], 'web12.example.org', false],
    [['*.example.org', '!db.example.org'], 'db.example.org', false],
    [['!db.example.org'], 'web.example.org', false],
    [['10.0.0.1'], '10.0.0.10', false],
    [['10.0.0.+'], '10.0.0.1', false],
  ])('%j against %s is %s', (patterns, name, want) => {
    expect(patternsMatch(patterns, name)).toBe(want);
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, hashed and marked lines and skips what Ferry cannot pin', () => {
    const text = [
      '# comment',
      '',
      `${HASHED_NAME} ${KEY}`,
      `web1,10.0.0.1 ${RSA} root@web1`,
      `@cert-authority *.example.org ${KEY}`,
      `@revoked * ${ECDSA}`,
      'db1 ssh-dss AAAAB3NzaC1kc3M',
      'broken-line',
      `db1 sk-ssh-ed25519@openssh.com AAAAGnNr`,
    ].join('\n');
    expect(parseKnownHosts(text)).toEqual([
      { revoked: false, patterns: [HASHED_NAME], key: KEY },
      { revoked: false, patterns: ['web1', '10.0.0.1'], key: RSA },
      { revoked: true, patterns: ['*'], key: ECDSA },
    ]);
  });
});

describe('lookupHostKey', () => {
  const file = (text: string) => parseKnownHosts(text);

  it('finds a hashed [host]:port entry', () => {
    expect(lookupHostKey([file(`${HASHED_PORT} ${KEY}`)], '[10.1.2.3]:2222')).toBe(KEY);
  });

  it('prefers ed25519, then ecdsa, then rsa, as ssh2 negotiates', () => {
    expect(lookupHostKey([file(`h ${RSA}\nh ${ECDSA}\nh ${KEY}`)], 'h')).toBe(KEY);
    expect(lookupHostKey([file(`h ${RSA}\nh ${ECDSA}`)], 'h')).toBe(ECDSA);
  });

  it('takes the first file that knows the host', () => {
    expect(lookupHostKey([file(`other ${KEY}`), file(`h ${RSA}`), file(`h ${KEY}`)], 'h')).toBe(RSA);
  });

  it('never returns a key revoked in any file', () => {
    expect(lookupHostKey([file(`h ${KEY}\nh ${RSA}`), file(`@revoked * ${KEY}`)], 'h')).toBe(RSA);
    expect(lookupHostKey([file(`h ${KEY}`), file(`@revoked h ${KEY}`)], 'h')).toBeUndefined();
  });

  it('finds nothing for an unknown host', () => {
    expect(lookupHostKey([file(`h ${KEY}`), []], 'x')).toBeUndefined();
  });
});

describe('host key helpers', () => {
  it('offers only the pinned key type to the server', () => {
    expect(hostKeyAlgorithms(KEY)).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms(RSA)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms('sk-ssh-ed25519@openssh.com AAAA')).toBeUndefined();
  });

  it('prefers by type and ignores types it does not pin', () => {
    expect(preferredHostKey([RSA, ECDSA])).toBe(ECDSA);
    expect(preferredHostKey(['ssh-dss AAAA'])).toBeUndefined();
  });
});
