import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { describePki, ensureHostsPki, ensurePki, pkiHostFiles } from '../../../src/infra/pki.ts';
import { pkiHostOf, sameSans, sanEntries, validEnvironmentName } from '../../../src/infra/pki-names.ts';
import { catchFerry } from '../catch-ferry.ts';
import { skipNote } from '../../helpers/env.ts';

describe('sanEntries', () => {
  it('names the host and each address, IPs as IP entries', () => {
    expect(sanEntries({ name: 'lab-1', addresses: ['10.247.0.11', 'fd00::11', 'Lab-1.Example.org'] })).toEqual(['DNS:lab-1', 'IP:10.247.0.11', 'IP:fd00::11', 'DNS:lab-1.example.org']);
  });

  it('takes the peer address too, once', () => {
    expect(pkiHostOf({ name: 'aws-1', address: '203.0.113.5', peerAddress: '10.20.1.11' })).toEqual({ name: 'aws-1', addresses: ['203.0.113.5', '10.20.1.11'] });
    expect(pkiHostOf({ name: 'lab-1', address: '10.247.0.11', peerAddress: '10.247.0.11' }).addresses).toEqual(['10.247.0.11']);
  });

  it('refuses what would change openssl arguments', () => {
    for (const a of ['10.0.0.1,IP:10.6.6.6', 'a b', 'x/y', '']) catchFerry(() => sanEntries({ name: 'lab-1', addresses: [a] }), ErrorCode.PkiFailed);
    catchFerry(() => sanEntries({ name: 'CN=evil', addresses: [] }), ErrorCode.InvalidName);
    for (const e of ['a/CN=b', 'x=y', '', 'a,b', '-x']) catchFerry(() => validEnvironmentName(e), ErrorCode.PkiFailed);
  });
});

describe('sameSans', () => {
  it("reads node:crypto's spelling, IPv6 written out in capitals", () => {
    expect(sameSans('DNS:t, IP Address:FD00:0:0:0:0:0:0:1, IP Address:10.0.0.1', ['IP:10.0.0.1', 'DNS:t', 'IP:fd00::1'])).toBe(true);
    expect(sameSans('DNS:t, IP Address:10.0.0.1', ['DNS:t', 'IP:10.0.0.2'])).toBe(false);
    expect(sameSans('DNS:t, IP Address:10.0.0.1, DNS:u', ['DNS:t', 'IP:10.0.0.1'])).toBe(false);
  });
});

let opensslMissing: string | null = null;
try {
  execFileSync('openssl', ['version']);
} catch {
  opensslMissing = 'needs openssl on PATH (Debian package openssl)';
}
skipNote(opensslMissing, 'ensurePki with openssl');

describe.skipIf(opensslMissing)('ensurePki with openssl', () => {
  let dir: string;
  const hosts = [
    { name: 'lab-1', addresses: ['10.247.0.11'] },
    { name: 'lab-2', addresses: ['10.247.0.12'] },
  ];
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-pki-test-')), 'pki');
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  const cert = async (host: string) => new X509Certificate(await readFile(pkiHostFiles(dir, host).cert));

  it('makes a CA and one certificate per host that openssl verifies, keys private', async () => {
    const r = await ensurePki(dir, hosts, { environment: 'local' });
    expect(r).toMatchObject({ caCreated: true, kept: [] });
    expect(r.issued.map((i) => i.host)).toEqual(['lab-1', 'lab-2']);
    const ca = new X509Certificate(await readFile(path.join(dir, 'ca.crt')));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=Ferry CA local');
    const c = await cert('lab-2');
    expect(c.subject).toBe('CN=lab-2');
    expect(c.subjectAltName).toBe('DNS:lab-2, IP Address:10.247.0.12');
    expect(c.ca).toBe(false);
    expect(c.checkIssued(ca)).toBe(true);
    const ext = execFileSync('openssl', ['x509', '-in', pkiHostFiles(dir, 'lab-2').cert, '-noout', '-ext', 'extendedKeyUsage'], { encoding: 'utf8' });
    expect(ext).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), pkiHostFiles(dir, 'lab-1').cert], { encoding: 'utf8' })).toMatch(/OK/);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(pkiHostFiles(dir, 'lab-1').key)).mode & 0o777).toBe(0o600);
  });

  it('keeps everything on a second run', async () => {
    await ensurePki(dir, hosts, { environment: 'local' });
    const before = await readFile(pkiHostFiles(dir, 'lab-1').cert, 'utf8');
    const r = await ensurePki(dir, hosts, { environment: 'local' });
    expect(r).toMatchObject({ caCreated: false, issued: [], kept: ['lab-1', 'lab-2'] });
    expect(await readFile(pkiHostFiles(dir, 'lab-1').cert, 'utf8')).toBe(before);
  });

  it('reissues only the host whose address changed, saying why', async () => {
    await ensurePki(dir, hosts, { environment: 'local' });
    const r = await ensurePki(dir, [hosts[0]!, { name: 'lab-2', addresses: ['10.247.0.22'] }], { environment: 'local' });
    expect(r.kept).toEqual(['lab-1']);
    expect(r.issued).toEqual([{ host: 'lab-2', why: 'addresses changed (was DNS:lab-2, IP Address:10.247.0.12)' }]);
    expect((await cert('lab-2')).subjectAltName).toBe('DNS:lab-2, IP Address:10.247.0.22');
  });

  it('renews certificates close to expiry', async () => {
    await ensurePki(dir, hosts, { environment: 'local' });
    const later = new Date(Date.now() + 380 * 24 * 3600 * 1000);
    const r = await ensurePki(dir, hosts, { environment: 'local', now: later });
    expect(r.issued).toEqual([
      { host: 'lab-1', why: 'expires soon' },
      { host: 'lab-2', why: 'expires soon' },
    ]);
  });

  it('replaces a certificate from another CA, a key that does not match, and a broken CA', async () => {
    await ensurePki(dir, hosts, { environment: 'local' });
    const other = path.join(path.dirname(dir), 'other');
    await ensurePki(other, hosts, { environment: 'other' });
    await writeFile(pkiHostFiles(dir, 'lab-1').cert, await readFile(pkiHostFiles(other, 'lab-1').cert));
    await writeFile(pkiHostFiles(dir, 'lab-2').key, await readFile(pkiHostFiles(other, 'lab-2').key));
    const r = await ensurePki(dir, hosts, { environment: 'local' });
    expect(r.issued).toEqual([
      { host: 'lab-1', why: 'signed by another CA' },
      { host: 'lab-2', why: 'key does not match' },
    ]);
    await writeFile(path.join(dir, 'ca.key'), await readFile(path.join(other, 'ca.key')));
    const r2 = await ensurePki(dir, hosts, { environment: 'local' });
    expect(r2.caCreated).toBe(true);
    expect(r2.issued.map((i) => i.why)).toEqual(['new CA', 'new CA']);
  });

  it('rotates the CA on request: every certificate is issued anew', async () => {
    await ensurePki(dir, hosts, { environment: 'local' });
    const oldCa = await readFile(path.join(dir, 'ca.crt'), 'utf8');
    const r = await ensurePki(dir, hosts, { environment: 'local', rotate: true });
    expect(r.caCreated).toBe(true);
    expect(await readFile(path.join(dir, 'ca.crt'), 'utf8')).not.toBe(oldCa);
    expect((await cert('lab-1')).checkIssued(new X509Certificate(oldCa))).toBe(false);
  });

  it('serialises concurrent callers: one CA, every host signed by it', async () => {
    const [a, b] = await Promise.all([ensurePki(dir, hosts, { environment: 'local' }), ensurePki(dir, hosts, { environment: 'local' })]);
    expect([a.caCreated, b.caCreated].sort()).toEqual([false, true]);
    const ca = new X509Certificate(await readFile(path.join(dir, 'ca.crt')));
    for (const h of hosts) expect((await cert(h.name)).checkIssued(ca)).toBe(true);
  });

  it('refuses a bad address before touching the directory', async () => {
    await expect(ensurePki(dir, [{ name: 'lab-1', addresses: ['10.0.0.1,IP:6.6.6.6'] }], { environment: 'local' })).rejects.toMatchObject({ code: ErrorCode.PkiFailed });
    await expect(stat(dir)).rejects.toThrow();
  });
});

describe.skipIf(opensslMissing)('ensureHostsPki', () => {
  it('issues for the usable hosts of a hosts file, with their peer addresses, naming the CA after its environment', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-pki-hosts-')), 'pki');
    try {
      const spec = { port: 22, user: 'root', privateKeyFile: '/k', hostKey: 'ssh-ed25519 AAAA', environment: 'aws' };
      const r = await ensureHostsPki(dir, {
        environment: 'aws',
        hosts: [
          { ...spec, name: 'aws-1', address: '203.0.113.5', peerAddress: '10.20.1.11' },
          { ...spec, name: 'aws-2', address: '203.0.113.6', unusable: 'no host key is recorded for it' },
        ],
      });
      expect(r.issued.map((i) => i.host)).toEqual(['aws-1']);
      expect(describePki(r)).toEqual([`CA in ${dir}: created`, 'aws-1: certificate issued (new CA)']);
      expect(new X509Certificate(await readFile(pkiHostFiles(dir, 'aws-1').cert)).subjectAltName).toBe('DNS:aws-1, IP Address:203.0.113.5, IP Address:10.20.1.11');
      expect(new X509Certificate(await readFile(path.join(dir, 'ca.crt'))).subject).toBe('CN=Ferry CA aws');
    } finally {
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
