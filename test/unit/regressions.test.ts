import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseHostsFile } from '../../src/hosts/inventory.ts';
import { commandLine } from '../../src/hosts/quote.ts';
import { mountsUnder } from '../../src/migrate/debris.ts';
import { healthSpecFromConfig } from '../../src/migrate/health.ts';
import { formatBytes } from '../../src/util/table.ts';

// Bugs found by review of the pure parts; each test failed before its fix.
describe('regressions', () => {
  it('a first argument with = is a program name, not an assignment', () => {
    let code = 0;
    try {
      execFileSync('/bin/sh', ['-c', commandLine(['X=1', 'printf', '%s', 'hi'])], { stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(127);
  });

  it('a null host entry is a config error naming the entry', () => {
    expect(() => parseHostsFile('{"hosts":[null]}')).toThrow(/hosts\[0\] must be an object/);
  });

  it('accepts ECDSA host keys', () => {
    const f = parseHostsFile(JSON.stringify({ hosts: [{ name: 'aws-1', address: '10.0.0.1', user: 'root', privateKeyFile: '/k', hostKey: 'ecdsa-sha2-nistp256 AAAAE2VjZHNh' }] }));
    expect(f.hosts[0]!.hostKey).toMatch(/^ecdsa/);
  });

  it('mountsUnder includes the directory itself whatever its trailing slash', () => {
    const info = ['1 2 0:1 / /run/ferry/runc/web1 rw - tmpfs x rw', '3 1 0:2 / /run/ferry/runc/web1/criu-root rw - tmpfs x rw'].join('\n');
    expect(mountsUnder(info, '/run/ferry/runc/web1/')).toEqual(['/run/ferry/runc/web1/criu-root', '/run/ferry/runc/web1']);
  });

  it('an out-of-range port in the health annotation falls back to FERRY_PORT', () => {
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': 'tcp:99999' }, process: { env: ['FERRY_PORT=8080'] } })).toEqual({ kind: 'http', port: 8080, path: '/counter' });
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': 'http:0' } })).toEqual({ kind: 'none' });
  });

  it('formatBytes moves to the next unit when rounding reaches it', () => {
    expect(formatBytes(1048575)).toBe('1.0 MiB');
    expect(formatBytes(10239)).toBe('10 KiB');
  });
});
