import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../config.ts';
import { ErrorCode, FerryError, isFerryError } from '../../errors.ts';
import { runLocal } from '../../util/run-local.ts';
import type { RootfsKind } from './spec.ts';

/** scripts/build-rootfs.sh: mmdebstrap, the cache, the manifests. */
export const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts', 'build-rootfs.sh');

/** One cached root filesystem: a zstd tarball (numeric owners) under `$FERRY_CACHE_DIR/rootfs/`. */
export interface RootfsTarball {
  kind: RootfsKind;
  /** `<cache>/rootfs/<kind>-<key>.tar.zst`; the manifest is beside it, `<path>.json`. */
  path: string;
  /** True when this call built it, false when it came from the cache. */
  built: boolean;
}

/** `<tarball>.json`, written by the build. */
export interface RootfsManifest {
  kind: RootfsKind;
  /** Hash of the build's inputs (package list, mmdebstrap options, the files under workloads/wordpress/). */
  key: string;
  tarball: string;
  bytes: number;
  unpackedBytes: number;
  builtAt: string;
  buildSeconds: number;
  builtOn: string;
  suite: string;
  /** Installed package → version. */
  packages: Record<string, string>;
}

export interface RootfsBuildOptions {
  /** The cache's parent directory (FERRY_CACHE_DIR). @defaultValue the environment's, else /var/cache/ferry */
  cacheDir?: string;
  /** Build even when cached. @defaultValue false */
  force?: boolean;
  /** Progress lines (mmdebstrap's log) as they come. */
  onLine?: (line: string) => void;
  cancelSignal?: AbortSignal;
  /** @defaultValue 30 minutes (the first build of both takes 5 to 11 minutes on 2 cores) */
  timeoutMs?: number;
}

/** The `FERRY_ROOTFS <kind> <path> <built>` lines of build-rootfs.sh's stdout. Pure. */
export function parseBuildOutput(stdout: string): RootfsTarball[] {
  const out: RootfsTarball[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^FERRY_ROOTFS (mariadb|wordpress) (\/\S+\.tar\.zst) ([01])$/.exec(line.trim());
    if (m) out.push({ kind: m[1] as RootfsKind, path: m[2]!, built: m[3] === '1' });
  }
  return out;
}

/** Builds what is not cached (needs root, mmdebstrap, zstd and Debian's mirror) and returns the tarballs. */
export async function ensureRootfs(kinds: readonly RootfsKind[], opts: RootfsBuildOptions = {}): Promise<RootfsTarball[]> {
  const args = [BUILD_SCRIPT, ...(opts.force ? ['--force'] : []), ...kinds];
  try {
    const r = await runLocal('bash', args, {
      env: cacheEnv(opts.cacheDir),
      onLine: opts.onLine,
      cancelSignal: opts.cancelSignal,
      timeoutMs: opts.timeoutMs ?? 30 * 60_000,
    });
    return expectAll(kinds, parseBuildOutput(r.stdout));
  } catch (e) {
    if (isFerryError(e, ErrorCode.CommandFailed)) {
      throw new FerryError(ErrorCode.RootfsBuildFailed, `building the ${kinds.join(' and ')} rootfs failed: ${e.message}`, { original: e });
    }
    throw e;
  }
}

/** The cached tarballs, or null when one of them is not built yet (builds nothing; needs no root). */
export async function cachedRootfs(kinds: readonly RootfsKind[], cacheDir?: string): Promise<RootfsTarball[] | null> {
  const r = await runLocal('bash', [BUILD_SCRIPT, '--check', ...kinds], { env: cacheEnv(cacheDir), okCodes: [0, 3] });
  return r.code === 3 ? null : expectAll(kinds, parseBuildOutput(r.stdout));
}

export async function readManifest(t: RootfsTarball): Promise<RootfsManifest> {
  return JSON.parse(await readFile(`${t.path}.json`, 'utf8')) as RootfsManifest;
}

/** Unpacks a tarball into DIR (which must exist), keeping numeric owners and modes. */
export async function unpackRootfs(tarball: string, dir: string): Promise<void> {
  await runLocal('tar', ['--zstd', '--numeric-owner', '-xpf', tarball, '-C', dir]);
}

function cacheEnv(cacheDir: string | undefined): Record<string, string> | undefined {
  return cacheDir ? { FERRY_CACHE_DIR: cacheDir } : undefined;
}

function expectAll(kinds: readonly RootfsKind[], got: RootfsTarball[]): RootfsTarball[] {
  return kinds.map((k) => {
    const t = got.find((g) => g.kind === k);
    if (!t) throw new FerryError(ErrorCode.RootfsBuildFailed, `build-rootfs.sh named no tarball for ${k}: see its output above`);
    return t;
  });
}
