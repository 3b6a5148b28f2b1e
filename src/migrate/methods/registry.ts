import { ErrorCode, FerryError } from '../../errors.ts';
import { compareVersions, type HostCapabilities } from '../../hosts/probe.ts';
import type { Strategy } from '../strategies/strategy.ts';

/** Oldest CRIU that works on the kernels Ferry meets (3.17 fails on the vDSO of recent kernels, 4.1 hangs on >= 6.16). */
export const MIN_CRIU = '4.2';

export type MethodRequest = string;

/** One migration method: everything Ferry needs to know about it, in one record. */
export interface MethodRecord {
  /** The name used in commands: lower-case letters, digits and dashes (`page-server`). */
  name: string;
  /** The title in reports (the paper's Table II row name where it has one). */
  title: string;
  /** One line for usage texts. */
  summary: string;
  /** Kernel features the method needs: soft-dirty tracking on the source, userfaultfd on the target. */
  needs: { softDirty: boolean; uffd: boolean };
  /** What kind of method it is, for reports and aggregation. */
  traits: { preCopy: boolean; pageServer: boolean; lazy: boolean };
  /**
   * When the bundle (rootfs) goes to the target. `freeze`: during the freeze only. `presync`: once
   * before the freeze too, so the freeze moves only the delta (the paper's rsync optimization);
   * `presync-timed`: the same, counted in the pre-copy column as the paper does for +Rsync.
   * @defaultValue 'freeze'
   */
  bundle: 'freeze' | 'presync' | 'presync-timed';
  /**
   * Where `auto` may pick this method: lower ranks are tried first, and `reason` says why it was
   * picked (`passedOver` holds the better-ranked methods that could not run, with their blockers).
   * Absent: `auto` never picks it (post-copy leaves the container depending on its source).
   */
  auto?: { rank: number; reason: (c: { source: HostCapabilities; target: HostCapabilities; passedOver: { name: string; blocker: string }[] }) => string };
  /** A fresh strategy for one migration (strategies keep per-migration state). */
  create(): Strategy;
}

export interface MethodChoice {
  method: string;
  reason: string;
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** The methods a Ferry process knows. Adding one is a strategy file plus one {@link MethodRecord}. */
export class MethodRegistry {
  private readonly byName = new Map<string, MethodRecord>();

  constructor(records: readonly MethodRecord[] = []) {
    for (const r of records) this.register(r);
  }

  register(r: MethodRecord): this {
    if (!NAME.test(r.name) || r.name === 'auto') throw new FerryError(ErrorCode.Internal, `method name '${r.name}' must match ${NAME} and not be 'auto'`);
    if (this.byName.has(r.name)) throw new FerryError(ErrorCode.Internal, `method ${r.name} is registered twice`);
    this.byName.set(r.name, r);
    return this;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  records(): MethodRecord[] {
    return [...this.byName.values()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): MethodRecord {
    const r = this.byName.get(name);
    if (!r) throw this.unknown(name);
    return r;
  }

  private unknown(name: string): FerryError {
    return new FerryError(ErrorCode.UnknownMethod, `unknown method '${name}': choose one of auto, ${this.names().join(', ')}`);
  }

  /** A method name from a user: 'auto' or a registered name, exactly (case matters). */
  parse(s: string): MethodRequest {
    if (s === 'auto' || this.byName.has(s)) return s;
    throw this.unknown(s);
  }

  /** Why a method cannot run between these hosts, or null when it can. Pure: decided before any freeze. */
  blocker(name: string, source: HostCapabilities, target: HostCapabilities): string | null {
    const r = this.get(name);
    for (const h of [source, target]) {
      if (!h.criuVersion) return `CRIU is not installed on ${h.host}`;
      if (compareVersions(h.criuVersion, MIN_CRIU) < 0) return `CRIU ${h.criuVersion} on ${h.host} is older than ${MIN_CRIU}`;
      if (!h.runcVersion) return `runc is not installed on ${h.host}`;
    }
    if (r.needs.softDirty && !source.softDirty) {
      return `${name} needs soft-dirty memory tracking (CONFIG_MEM_SOFT_DIRTY) on the source ${source.host}, whose kernel ${source.kernel} lacks it ('criu check --feature mem_dirty_track' fails)`;
    }
    if (r.needs.uffd && !target.uffd) {
      return `${name} needs userfaultfd on the target ${target.host} (kernel ${target.kernel}); 'criu check --feature uffd' fails there`;
    }
    return null;
  }

  /** Resolves `auto` (or checks an explicit method) against both hosts' capabilities. */
  choose(requested: MethodRequest, source: HostCapabilities, target: HostCapabilities): MethodChoice {
    if (requested !== 'auto') {
      const blocker = this.blocker(requested, source, target);
      if (blocker) throw new FerryError(ErrorCode.MethodUnsupported, `method ${requested} cannot run from ${source.host} to ${target.host}: ${blocker}`);
      return { method: requested, reason: 'requested explicitly' };
    }
    const candidates = this.records()
      .filter((r) => r.auto)
      .sort((a, b) => a.auto!.rank - b.auto!.rank);
    const passedOver: { name: string; blocker: string }[] = [];
    for (const r of candidates) {
      const blocker = this.blocker(r.name, source, target);
      if (!blocker) return { method: r.name, reason: r.auto!.reason({ source, target, passedOver }) };
      passedOver.push({ name: r.name, blocker });
    }
    const last = passedOver.at(-1);
    throw new FerryError(ErrorCode.MethodUnsupported, `no method can run from ${source.host} to ${target.host}: ${last?.blocker ?? 'no method is registered for auto'}`);
  }
}
