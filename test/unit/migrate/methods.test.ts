import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';
import { METHODS, METHOD_INFO, chooseMethod, methodBlocker, parseMethod, type Method } from '../../../src/migrate/methods.ts';
import { catchFerry } from '../catch-ferry.ts';

const caps = (host: string, over: Partial<HostCapabilities> = {}): HostCapabilities => ({
  host,
  kernel: '6.1.0-18-amd64',
  criuVersion: '4.2',
  runcVersion: '1.1.12',
  softDirty: true,
  uffd: true,
  uffdNoncoop: true,
  ...over,
});

const src = caps('lab-1');
const dst = caps('lab-2');
const PRECOPY_METHODS: Method[] = ['precopy', 'pc-ps', 'pc-ps-rsync', 'pc-lazy'];

describe('parseMethod', () => {
  it.each(['auto', ...METHODS])('accepts %s', (m) => {
    expect(parseMethod(m)).toBe(m);
  });

  it('rejects an unknown method, listing the choices', () => {
    const e = catchFerry(() => parseMethod('teleport'), ErrorCode.UnknownMethod);
    expect(e.message).toContain("unknown method 'teleport'");
    expect(e.message).toContain('auto, normal, page-server, precopy, pc-ps, pc-ps-rsync, lazy, pc-lazy');
  });

  it('is case-sensitive', () => {
    catchFerry(() => parseMethod('Normal'), ErrorCode.UnknownMethod);
  });
});

describe('METHOD_INFO', () => {
  it('describes every method', () => {
    expect(Object.keys(METHOD_INFO).sort()).toEqual([...METHODS].sort());
    expect(METHOD_INFO['pc-ps-rsync']).toMatchObject({ preCopy: true, pageServer: true, lazy: false });
    expect(METHOD_INFO.lazy).toMatchObject({ preCopy: false, lazy: true });
    expect(METHOD_INFO['pc-lazy']).toMatchObject({ preCopy: true, pageServer: false, lazy: true });
  });
});

describe('methodBlocker', () => {
  it.each(METHODS)('lets %s run between fully capable hosts', (m) => {
    expect(methodBlocker(m, src, dst)).toBeNull();
  });

  describe('without soft-dirty on the source', () => {
    const noDirty = caps('lab-1', { softDirty: false, kernel: '5.10.0-custom' });

    it.each(PRECOPY_METHODS)('blocks %s, naming soft-dirty, the host and its kernel', (m) => {
      const why = methodBlocker(m, noDirty, dst);
      expect(why).not.toBeNull();
      expect(why).toContain('soft-dirty');
      expect(why).toContain('lab-1');
      expect(why).toContain('5.10.0-custom');
      expect(why!.startsWith(m)).toBe(true);
    });

    it.each(['normal', 'page-server', 'lazy'] as Method[])('still allows %s', (m) => {
      expect(methodBlocker(m, noDirty, dst)).toBeNull();
    });
  });

  it('does not need soft-dirty on the target', () => {
    for (const m of PRECOPY_METHODS) expect(methodBlocker(m, src, caps('lab-2', { softDirty: false }))).toBeNull();
  });

  describe('without userfaultfd on the target', () => {
    const noUffd = caps('lab-2', { uffd: false });

    it.each(['lazy', 'pc-lazy'] as Method[])('blocks %s, naming userfaultfd and the target', (m) => {
      const why = methodBlocker(m, src, noUffd);
      expect(why).toContain('userfaultfd');
      expect(why).toContain('lab-2');
    });

    it.each(['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync'] as Method[])('still allows %s', (m) => {
      expect(methodBlocker(m, src, noUffd)).toBeNull();
    });

    it('lazy does not need userfaultfd on the source', () => {
      expect(methodBlocker('lazy', caps('lab-1', { uffd: false }), dst)).toBeNull();
    });
  });

  describe('old CRIU', () => {
    it.each(METHODS)('blocks %s when the source has CRIU 4.1.1, naming the version', (m) => {
      const why = methodBlocker(m, caps('lab-1', { criuVersion: '4.1.1' }), dst);
      expect(why).toBe('CRIU 4.1.1 on lab-1 is older than 4.2');
    });

    it.each(METHODS)('blocks %s when the target has CRIU 3.17.1', (m) => {
      expect(methodBlocker(m, src, caps('lab-2', { criuVersion: '3.17.1' }))).toBe('CRIU 3.17.1 on lab-2 is older than 4.2');
    });

    it('accepts newer CRIU versions', () => {
      expect(methodBlocker('normal', caps('lab-1', { criuVersion: '4.2.1' }), caps('lab-2', { criuVersion: '4.10' }))).toBeNull();
    });
  });

  it('blocks when CRIU is missing', () => {
    expect(methodBlocker('normal', src, caps('lab-2', { criuVersion: null }))).toBe('CRIU is not installed on lab-2');
  });

  it.each(METHODS)('blocks %s when runc is missing', (m) => {
    expect(methodBlocker(m, caps('lab-1', { runcVersion: null }), dst)).toBe('runc is not installed on lab-1');
  });
});

describe('chooseMethod', () => {
  it('auto picks pc-ps-rsync when both hosts track dirty memory', () => {
    const c = chooseMethod('auto', src, dst);
    expect(c.method).toBe('pc-ps-rsync');
    expect(c.reason).toContain('pre-copied');
  });

  it('auto falls back to page-server without soft-dirty, saying why pre-copy is out', () => {
    const c = chooseMethod('auto', caps('lab-1', { softDirty: false }), dst);
    expect(c.method).toBe('page-server');
    expect(c.reason).toContain('pre-copy is out');
    expect(c.reason).toContain('soft-dirty');
  });

  it('auto refuses when no method can run', () => {
    const e = catchFerry(() => chooseMethod('auto', caps('lab-1', { criuVersion: '4.1.1' }), dst), ErrorCode.MethodUnsupported);
    expect(e.message).toContain('no method can run from lab-1 to lab-2');
    expect(e.message).toContain('CRIU 4.1.1');
  });

  it('returns an explicit method that can run', () => {
    expect(chooseMethod('lazy', src, dst)).toEqual({ method: 'lazy', reason: 'requested explicitly' });
  });

  it('refuses an explicit method that cannot run, with the blocker', () => {
    const e = catchFerry(() => chooseMethod('precopy', caps('lab-1', { softDirty: false }), dst), ErrorCode.MethodUnsupported);
    expect(e.message).toMatch(/^method precopy cannot run from lab-1 to lab-2: /);
    expect(e.message).toContain('soft-dirty');
  });

  it('refuses explicit lazy without userfaultfd on the target', () => {
    const e = catchFerry(() => chooseMethod('lazy', src, caps('lab-2', { uffd: false })), ErrorCode.MethodUnsupported);
    expect(e.message).toContain('userfaultfd');
  });
});
