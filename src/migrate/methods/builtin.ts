import { DumpCopy } from '../strategies/DumpCopy.ts';
import { Lazy } from '../strategies/Lazy.ts';
import { PreCopy } from '../strategies/PreCopy.ts';
import { Sequence } from '../strategies/strategy.ts';
import { MethodRegistry, type MethodRecord } from './registry.ts';

const none = { softDirty: false, uffd: false };

/**
 * The paper's Table II methods (Normal, Page Server, Pre-copy, PC&PS, +Rsync), post-copy, and both.
 * Each is one record: the engine, the CLI's and chat's usage, `auto` and the reports read it here.
 */
export const BUILTIN_METHODS: readonly MethodRecord[] = [
  {
    name: 'normal',
    title: 'Normal',
    summary: 'freeze, dump to the source disk, rsync images and bundle, restore',
    needs: none,
    traits: { preCopy: false, pageServer: false, lazy: false },
    bundle: 'freeze',
    create: () => new DumpCopy(false),
  },
  {
    name: 'page-server',
    title: 'Page Server',
    summary: "the dump streams memory straight into the target's CRIU page server; the rest by rsync",
    needs: none,
    traits: { preCopy: false, pageServer: true, lazy: false },
    bundle: 'freeze',
    auto: {
      rank: 2,
      reason: ({ target, passedOver }) =>
        `${passedOver.length ? `pre-copy is out (${passedOver[0]!.blocker}); ` : ''}the page server streams memory straight to ${target.host} with no disk round trip. (lazy would cut downtime further but leaves the container depending on its source until every page arrives: ask for it with method lazy)`,
    },
    create: () => new DumpCopy(true),
  },
  {
    name: 'precopy',
    title: 'Pre-copy',
    summary: 'pre-dumps while running (rsynced), then a final dump of what changed',
    needs: { softDirty: true, uffd: false },
    traits: { preCopy: true, pageServer: false, lazy: false },
    bundle: 'freeze',
    create: () => new PreCopy(false),
  },
  {
    name: 'pc-ps',
    title: 'PC & PS',
    summary: 'pre-dumps and the final dump all through the page server',
    needs: { softDirty: true, uffd: false },
    traits: { preCopy: true, pageServer: true, lazy: false },
    bundle: 'freeze',
    create: () => new PreCopy(true),
  },
  {
    name: 'pc-ps-rsync',
    title: 'PC & PS + Rsync',
    summary: 'pc-ps, with the bundle synced during pre-copy so only deltas move while frozen',
    needs: { softDirty: true, uffd: false },
    traits: { preCopy: true, pageServer: true, lazy: false },
    bundle: 'presync-timed',
    auto: {
      rank: 1,
      reason: () => 'both hosts track dirty memory, so memory is pre-copied through the page server while the container runs and only the last dirty pages move during the freeze',
    },
    create: () => new PreCopy(true),
  },
  {
    name: 'lazy',
    title: 'Post-copy (lazy pages)',
    summary: 'restore at once; pages pulled from the source on first touch (userfaultfd)',
    needs: { softDirty: false, uffd: true },
    traits: { preCopy: false, pageServer: false, lazy: true },
    bundle: 'presync',
    create: () => new Lazy(),
  },
  {
    name: 'pc-lazy',
    title: 'Pre-copy + post-copy',
    summary: 'pre-copy rounds (rsynced), then a lazy final dump naming the last round as its parent',
    needs: { softDirty: true, uffd: true },
    traits: { preCopy: true, pageServer: false, lazy: true },
    bundle: 'presync',
    // The rounds go to disk and rsync, not to the page server: a lazy dump compares pages with a
    // parent on its own disk (through the page server the rounds would exist only on the target,
    // and CRIU would find no parent and serve every page lazily; measured).
    create: () => new Sequence(new PreCopy(false), new Lazy()),
  },
];

/** The registry a Ferry process uses unless it is handed another (tests register toy methods). */
export const methods = new MethodRegistry(BUILTIN_METHODS);
