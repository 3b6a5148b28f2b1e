import type { RemoteHost } from './RemoteHost.ts';

/** What a host can do, as far as migration methods care. */
export interface HostCapabilities {
  host: string;
  kernel: string;
  criuVersion: string | null;
  runcVersion: string | null;
  /** Soft-dirty memory tracking: needed for pre-dumps (pre-copy). */
  softDirty: boolean;
  /** userfaultfd: needed for lazy pages (post-copy). */
  uffd: boolean;
  /** Non-cooperative userfaultfd (fork/remap events): needed to lazily restore multi-process trees. */
  uffdNoncoop: boolean;
}

export function parseCriuVersion(out: string): string | null {
  return /^Version:\s*(\S+)/m.exec(out)?.[1] ?? null;
}

export function parseRuncVersion(out: string): string | null {
  return /^runc version\s+(\S+)/m.exec(out)?.[1] ?? null;
}

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+~-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+~-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export async function probeHost(host: RemoteHost): Promise<HostCapabilities> {
  const opts = { timeoutS: 60 };
  const [kernel, criu, runc, dirty, uffd, noncoop] = await Promise.all([
    host.exec(['uname', '-r'], opts),
    host.exec(['criu', '--version'], opts),
    host.exec(['runc', '--version'], opts),
    host.exec(['criu', 'check', '--feature', 'mem_dirty_track'], opts),
    host.exec(['criu', 'check', '--feature', 'uffd'], opts),
    host.exec(['criu', 'check', '--feature', 'uffd-noncoop'], opts),
  ]);
  return {
    host: host.name,
    kernel: kernel.stdout.trim(),
    criuVersion: criu.code === 0 ? parseCriuVersion(criu.stdout) : null,
    runcVersion: runc.code === 0 ? parseRuncVersion(runc.stdout) : null,
    softDirty: dirty.code === 0,
    uffd: uffd.code === 0,
    uffdNoncoop: noncoop.code === 0,
  };
}
