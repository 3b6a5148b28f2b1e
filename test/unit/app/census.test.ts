import { describe, expect, it } from 'vitest';
import { assertNamesFree, portsInUse, type Census } from '../../../src/app/census.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { catchFerry } from '../catch-ferry.ts';

const census = (over: Partial<Census> = {}): Census => ({
  containers: [
    { host: 'lab-1', name: 'web1', status: 'running' },
    { host: 'lab-2', name: 'blog-db', status: 'paused' },
  ],
  unreachable: [],
  unusable: [],
  ...over,
});

describe('assertNamesFree', () => {
  it('lets a name no host has through', () => {
    expect(() => assertNamesFree(['img1', 'blog-web'], census())).not.toThrow();
  });

  it('refuses a name that runs on another host, naming the host and its state', () => {
    const e = catchFerry(() => assertNamesFree(['img1', 'blog-db'], census()), ErrorCode.ContainerExists);
    expect(e.message).toContain('blog-db already exists on lab-2 (paused)');
    expect(e.details).toEqual({ hosts: ['lab-2'] });
  });

  it('refuses when a host could not be asked: it might run the name', () => {
    const e = catchFerry(() => assertNamesFree(['img1'], census({ unreachable: [{ host: 'lab-3', reason: 'cannot reach lab-3 over SSH' }] })), ErrorCode.PreflightFailed);
    expect(e.message).toContain('lab-3 (cannot reach lab-3 over SSH)');
    expect(e.message).toContain('one host only');
  });

  it('does not wait for hosts Ferry never connects to', () => {
    expect(() => assertNamesFree(['img1'], census({ unusable: [{ host: 'aws-9', reason: 'no host key is pinned' }] }))).not.toThrow();
  });
});

describe('portsInUse', () => {
  const ss = [
    'LISTEN 0      128    127.0.0.1:22991 0.0.0.0:*',
    'LISTEN 0      4096     0.0.0.0:3306  0.0.0.0:*',
    'LISTEN 0      511         [::]:8081     [::]:*',
    'LISTEN 0      511            *:80          *:*',
    '',
  ].join('\n');

  it('finds the wanted ports something listens on, on any address', () => {
    expect(portsInUse(ss, [3306, 8081, 80, 9000])).toEqual([3306, 8081, 80]);
  });

  it('does not take a port for a prefix of another, nor a peer port', () => {
    expect(portsInUse('LISTEN 0 128 0.0.0.0:33060 0.0.0.0:3306\n', [3306])).toEqual([]);
  });

  it('answers nothing for nothing listening', () => {
    expect(portsInUse('', [80])).toEqual([]);
  });
});
