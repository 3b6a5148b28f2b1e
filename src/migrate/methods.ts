import { ErrorCode, FerryError } from '../errors.ts';
import { compareVersions, type HostCapabilities } from '../hosts/probe.ts';

/** The paper's Table II methods (Normal, Page Server, Pre-copy, PC&PS, +Rsync), post-copy, and both. */
export const METHODS = ['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync', 'lazy', 'pc-lazy'] as const;
export type Method = (typeof METHODS)[number];
export type MethodRequest = Method | 'auto';

export const MIN_CRIU = '4.2';

export const METHOD_INFO: Record<Method, { title: string; preCopy: boolean; pageServer: boolean; lazy: boolean }> = {
  normal: { title: 'Normal', preCopy: false, pageServer: false, lazy: false },
  'page-server': { title: 'Page Server', preCopy: false, pageServer: true, lazy: false },
  precopy: { title: 'Pre-copy', preCopy: true, pageServer: false, lazy: false },
  'pc-ps': { title: 'PC & PS', preCopy: true, pageServer: true, lazy: false },
  'pc-ps-rsync': { title: 'PC & PS + Rsync', preCopy: true, pageServer: true, lazy: false },
  lazy: { title: 'Post-copy (lazy pages)', preCopy: false, pageServer: false, lazy: true },
  'pc-lazy': { title: 'Pre-copy + post-copy', preCopy: true, pageServer: false, lazy: true },
};

export function parseMethod(s: string): MethodRequest {
  if (s === 'auto' || (METHODS as readonly string[]).includes(s)) return s as MethodRequest;
  throw new FerryError(ErrorCode.UnknownMethod, `unknown method '${s}': choose one of auto, ${METHODS.join(', ')}`);
}

/** Why a method cannot run between these hosts, or null when it can. Pure: decided before any freeze. */
export function methodBlocker(method: Method, source: HostCapabilities, target: HostCapabilities): string | null {
  for (const h of [source, target]) {
    if (!h.criuVersion) return `CRIU is not installed on ${h.host}`;
    if (compareVersions(h.criuVersion, MIN_CRIU) < 0) return `CRIU ${h.criuVersion} on ${h.host} is older than ${MIN_CRIU}`;
    if (!h.runcVersion) return `runc is not installed on ${h.host}`;
  }
  const info = METHOD_INFO[method];
  if (info.preCopy && !source.softDirty) {
    return `${method} needs soft-dirty memory tracking (CONFIG_MEM_SOFT_DIRTY) on the source ${source.host}, whose kernel ${source.kernel} lacks it ('criu check --feature mem_dirty_track' fails)`;
  }
  if (info.lazy && !target.uffd) {
    return `${method} needs userfaultfd on the target ${target.host} (kernel ${target.kernel}); 'criu check --feature uffd' fails there`;
  }
  return null;
}

export interface MethodChoice {
  method: Method;
  reason: string;
}

/** Resolves `auto` (or checks an explicit method) against both hosts' capabilities. */
export function chooseMethod(requested: MethodRequest, source: HostCapabilities, target: HostCapabilities): MethodChoice {
  if (requested !== 'auto') {
    const blocker = methodBlocker(requested, source, target);
    if (blocker) throw new FerryError(ErrorCode.MethodUnsupported, `method ${requested} cannot run from ${source.host} to ${target.host}: ${blocker}`);
    return { method: requested, reason: `requested explicitly` };
  }
  const pc = methodBlocker('pc-ps-rsync', source, target);
  if (!pc) {
    return {
      method: 'pc-ps-rsync',
      reason: `both hosts track dirty memory, so memory is pre-copied through the page server while the container runs and only the last dirty pages move during the freeze`,
    };
  }
  const ps = methodBlocker('page-server', source, target);
  if (ps) throw new FerryError(ErrorCode.MethodUnsupported, `no method can run from ${source.host} to ${target.host}: ${ps}`);
  return {
    method: 'page-server',
    reason: `pre-copy is out (${pc}); the page server streams memory straight to ${target.host} with no disk round trip. (lazy would cut downtime further but leaves the container depending on ${source.host} until every page arrives: ask for it with method lazy)`,
  };
}
