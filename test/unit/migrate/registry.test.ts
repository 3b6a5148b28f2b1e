import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';
import { BUILTIN_METHODS } from '../../../src/migrate/methods/builtin.ts';
import { MethodRegistry, type MethodRecord } from '../../../src/migrate/methods/registry.ts';
import type { MigrationContext } from '../../../src/migrate/context.ts';
import { NO_BYTES, NO_PRESYNC, Sequence, type Presync, type Strategy } from '../../../src/migrate/strategies/strategy.ts';
import { catchFerry } from '../catch-ferry.ts';

const caps = (host: string, over: Partial<HostCapabilities> = {}): HostCapabilities => ({
  host,
  kernel: '6.18.0',
  criuVersion: '4.2.1',
  runcVersion: '1.1.5',
  softDirty: false,
  uffd: true,
  uffdNoncoop: true,
  ...over,
});

/** A strategy that records the calls it gets: enough to test composition without hosts. */
class Recorder implements Strategy {
  readonly calls: string[] = [];
  constructor(
    private readonly tag: string,
    private readonly presync: Presync = NO_PRESYNC,
  ) {}
  async beforeFreeze() {
    this.calls.push(`${this.tag}.beforeFreeze`);
    return this.presync;
  }
  async checkpoint(_ctx: MigrationContext, p: Presync) {
    this.calls.push(`${this.tag}.checkpoint parent=${p.parent ?? '-'}`);
    return { bytes: NO_BYTES };
  }
  async transferImages() {
    this.calls.push(`${this.tag}.transfer`);
    return NO_BYTES;
  }
  async restore() {
    this.calls.push(`${this.tag}.restore`);
  }
  async complete() {
    this.calls.push(`${this.tag}.complete`);
    return null;
  }
  async imagesForSourceRestore() {
    return { imageDir: '/x', lazy: false };
  }
}

const toy = (over: Partial<MethodRecord> = {}): MethodRecord => ({
  name: 'toy',
  title: 'Toy',
  summary: 'a method for tests',
  needs: { softDirty: false, uffd: false },
  traits: { preCopy: false, pageServer: false, lazy: false },
  bundle: 'freeze',
  create: () => new Recorder('toy'),
  ...over,
});

describe('MethodRegistry', () => {
  it('knows the built-in methods in Table II order, plus post-copy and both', () => {
    expect(new MethodRegistry(BUILTIN_METHODS).names()).toEqual(['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync', 'lazy', 'pc-lazy']);
  });

  it('takes a new method from one record: parse, blockers, titles', () => {
    const reg = new MethodRegistry(BUILTIN_METHODS).register(toy({ needs: { softDirty: false, uffd: true } }));
    expect(reg.parse('toy')).toBe('toy');
    expect(reg.get('toy').title).toBe('Toy');
    expect(reg.blocker('toy', caps('a'), caps('b'))).toBeNull();
    expect(reg.blocker('toy', caps('a'), caps('b', { uffd: false }))).toContain('userfaultfd on the target b');
    expect(catchFerry(() => reg.parse('warp'), ErrorCode.UnknownMethod).message).toContain('toy');
  });

  it('refuses a second record of the same name, and bad names', () => {
    const reg = new MethodRegistry([toy()]);
    expect(catchFerry(() => reg.register(toy()), ErrorCode.Internal).message).toContain('registered twice');
    catchFerry(() => reg.register(toy({ name: 'auto' })), ErrorCode.Internal);
    catchFerry(() => reg.register(toy({ name: 'Bad Name' })), ErrorCode.Internal);
  });

  it('auto follows the ranks, passing over what cannot run and saying why', () => {
    const reg = new MethodRegistry([
      toy({ name: 'fast', needs: { softDirty: true, uffd: false }, auto: { rank: 1, reason: () => 'fast' } }),
      toy({ name: 'safe', auto: { rank: 2, reason: ({ passedOver }) => `safe, since ${passedOver.map((p) => p.name).join(', ')} cannot run` } }),
      toy({ name: 'never' }),
    ]);
    expect(reg.choose('auto', caps('a', { softDirty: true }), caps('b'))).toEqual({ method: 'fast', reason: 'fast' });
    expect(reg.choose('auto', caps('a'), caps('b'))).toEqual({ method: 'safe', reason: 'safe, since fast cannot run' });
    expect(catchFerry(() => reg.choose('auto', caps('a', { criuVersion: '3.17' }), caps('b')), ErrorCode.MethodUnsupported).message).toContain('CRIU 3.17 on a');
  });
});

describe('Sequence', () => {
  it('runs the first strategy before the freeze and hands its parent images to the second', async () => {
    const rounds = new Recorder('rounds', { rounds: [{ round: 1, pagesWritten: 10, pagesSkipped: 0, seconds: 1 }], parent: '../pre-1', precopyStop: 'enough', bytes: { rsync: 5, pages: 0 } });
    const lazy = new Recorder('lazy');
    const seq = new Sequence(rounds, lazy);
    const ctx = {} as MigrationContext;
    const presync = await seq.beforeFreeze(ctx);
    expect(presync).toMatchObject({ parent: '../pre-1', precopyStop: 'enough', bytes: { rsync: 5, pages: 0 } });
    await seq.checkpoint(ctx, presync);
    await seq.transferImages(ctx);
    await seq.restore(ctx);
    await seq.complete(ctx);
    expect(rounds.calls).toEqual(['rounds.beforeFreeze']);
    expect(lazy.calls).toEqual(['lazy.beforeFreeze', 'lazy.checkpoint parent=../pre-1', 'lazy.transfer', 'lazy.restore', 'lazy.complete']);
  });
});
