import { describe, expect, it } from 'vitest';
import { criuLazyPages, criuPageServer, runcCheckpoint } from '../../../src/migrate/commands.ts';
import { criuConfigEnv, criuTlsConfig, criuTlsFlags, hostTls, HOST_PKI_DIR } from '../../../src/migrate/tls.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { catchFerry } from '../catch-ferry.ts';

const tls = hostTls('lab-2');

describe('hostTls', () => {
  it("names each host's files after the host (the lab's hosts share /etc)", () => {
    expect(tls).toEqual({ cacert: `${HOST_PKI_DIR}/ca.crt`, cert: '/etc/ferry/pki/lab-2.crt', key: '/etc/ferry/pki/lab-2.key' });
  });

  it('refuses a host name that could leave the directory', () => {
    catchFerry(() => hostTls('../etc/shadow'), ErrorCode.InvalidName);
  });
});

describe('criuTlsFlags', () => {
  it('a client verifies the server against the CA and the address it dials', () => {
    expect(criuTlsFlags(tls, 'client')).toEqual(['--tls', '--tls-cacert', tls.cacert, '--tls-cert', tls.cert, '--tls-key', tls.key]);
  });

  it('a server checks the client against the CA only (CRIU would match it against its own address)', () => {
    expect(criuTlsFlags(tls, 'server')).toEqual([...criuTlsFlags(tls, 'client'), '--tls-no-cn-verify']);
  });

  it('refuses relative paths and paths with whitespace', () => {
    expect(() => criuTlsFlags({ ...tls, key: 'lab-2.key' }, 'client')).toThrow(/absolute/);
    expect(() => criuTlsFlags({ ...tls, cert: '/etc/a b.crt' }, 'client')).toThrow(/whitespace/);
  });
});

describe('criuTlsConfig', () => {
  it('holds the same options as the flags, one per line', () => {
    const lines = criuTlsConfig(tls, 'server')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(['tls', `tls-cacert ${tls.cacert}`, `tls-cert ${tls.cert}`, `tls-key ${tls.key}`, 'tls-no-cn-verify']);
    expect(criuTlsConfig(tls, 'client')).not.toMatch(/no-cn-verify/);
  });

  it('ends with a newline (CRIU reads the last line too)', () => {
    expect(criuTlsConfig(tls, 'client').endsWith('\n')).toBe(true);
  });
});

describe('TLS in the builders', () => {
  const base = { name: 'web1', imageDir: '/var/lib/ferry/images/m1/img/final', workDir: '/var/lib/ferry/images/m1/work' };
  const conf = '/var/lib/ferry/images/m1/work/criu-tls.conf';

  it("hands runc's CRIU its configuration through CRIU_CONFIG_FILE (runc has no TLS flags)", () => {
    const args = runcCheckpoint({ ...base, pageServer: { address: '10.247.0.12', port: 27001 }, criuConfig: conf });
    expect(args.slice(0, 3)).toEqual(['env', `CRIU_CONFIG_FILE=${conf}`, 'runc']);
    expect(args.slice(2)).toEqual(runcCheckpoint({ ...base, pageServer: { address: '10.247.0.12', port: 27001 } }));
  });

  it('keeps the lazy checkpoint a runc process (the release pattern anchors on ^runc)', () => {
    const args = runcCheckpoint({ ...base, lazyPages: { address: '10.247.0.11', port: 27100 }, statusFd: 1, criuConfig: conf });
    expect(args.indexOf('runc')).toBe(2);
    expect(args.join(' ')).toMatch(/ runc --root \S+ checkpoint --image-path /);
  });

  it('adds no environment without a configuration', () => {
    expect(runcCheckpoint(base)[0]).toBe('runc');
  });

  it('refuses a configuration path env would misread', () => {
    expect(() => criuConfigEnv('criu.conf')).toThrow(/absolute/);
    expect(() => criuConfigEnv('/a b')).toThrow(/whitespace/);
  });

  it('the page server on the target is a TLS server', () => {
    const args = criuPageServer({ imageDir: '/i', listen: { address: '10.247.0.12', port: 27001 }, pidFile: '/p', logFile: '/l', tls });
    expect(args.slice(-8)).toEqual(criuTlsFlags(tls, 'server'));
    expect(criuPageServer({ imageDir: '/i', listen: { address: '10.247.0.12', port: 27001 }, pidFile: '/p', logFile: '/l' })).not.toContain('--tls');
  });

  it("the lazy-pages daemon on the target is a TLS client of the source's server", () => {
    const args = criuLazyPages({ imageDir: '/i', workDir: '/w', source: { address: '10.247.0.11', port: 27100 }, pidFile: '/p', logFile: '/l', tls });
    expect(args.slice(-7)).toEqual(criuTlsFlags(tls, 'client'));
    expect(args).not.toContain('--tls-no-cn-verify');
  });
});
