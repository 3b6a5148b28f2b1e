import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ErrorCode, FerryError, errorMessage, isFerryError } from '../errors.ts';
import { runLocal } from '../util/run-local.ts';
import type { ImageConfig, OciUser } from './oci.ts';

/** The image inputs `--image` takes, by skopeo's transport names. */
export type ImageFormat = 'docker-archive' | 'oci-archive' | 'oci';

/** The tag under which an image is copied into Ferry's own temporary layout. */
const LAYOUT_TAG = 'ferry';

/** Tells a `docker save`/`podman save` archive from an OCI archive by the names in the tar. Pure. */
export function classifyArchive(entries: readonly string[]): 'docker-archive' | 'oci-archive' | null {
  const names = new Set(entries.map((e) => e.replace(/^\.\//, '')));
  // Docker 25+ writes an OCI layout and manifest.json side by side: either reader works, and
  // skopeo's docker-archive reader also finds the repository tags there.
  if (names.has('manifest.json')) return 'docker-archive';
  if (names.has('oci-layout') && names.has('index.json')) return 'oci-archive';
  return null;
}

/** The compression of a file, from its first bytes. Pure. */
export function compressionOf(head: Uint8Array): 'gzip' | 'zstd' | 'xz' | 'bzip2' | null {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  return null;
}

/** skopeo's source reference: `docker-archive:PATH[:REF]`, `oci-archive:PATH[:REF]`, `oci:PATH[:REF]`. Pure. */
export function skopeoReference(format: ImageFormat, path: string, ref?: string): string {
  // skopeo splits the reference at ':' and has no escape for it.
  if (path.includes(':')) throw new FerryError(ErrorCode.ImageInvalid, `the image path ${path} holds ':', which skopeo reads as the start of an image reference: rename it or use a link without ':'`);
  if (ref !== undefined && !/^(@\d+|[A-Za-z0-9][A-Za-z0-9._/:@-]*)$/.test(ref)) throw new FerryError(ErrorCode.ImageInvalid, `invalid image reference '${ref}': use a name such as app:1.0 (or @N for the Nth image of a docker archive)`);
  return ref === undefined ? `${format}:${path}` : `${format}:${path}:${ref}`;
}

interface OciIndex {
  manifests?: { mediaType?: string; digest: string; annotations?: Record<string, string> }[];
}

/** The manifest digest tagged `tag` in an OCI layout's index.json. Pure. */
export function manifestDigest(index: OciIndex, tag: string): string {
  const m = (index.manifests ?? []).find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!m) throw new FerryError(ErrorCode.ImageInvalid, `no image tagged '${tag}' in the layout's index.json`);
  return m.digest;
}

/** The blob file of a digest (`sha256:abc…` → blobs/sha256/abc…) in a layout. Pure. */
export function blobPath(layout: string, digest: string): string {
  const m = /^([a-z0-9]+):([a-f0-9]{32,})$/.exec(digest);
  if (!m) throw new FerryError(ErrorCode.ImageInvalid, `malformed digest '${digest}' in the image layout`);
  return join(layout, 'blobs', m[1]!, m[2]!);
}

/** What an imported image brings: its root filesystem on the controller and its settings. */
export interface ImportedImage {
  /** The unpacked root filesystem (inside the work directory given). */
  rootfs: string;
  /** The image's `config` (entrypoint, cmd, env, workdir, exposed ports, user). */
  image: ImageConfig;
  /** The image's user resolved by umoci against the image's own /etc/passwd and /etc/group. */
  user: OciUser;
  /** The manifest digest of the image that was unpacked. */
  digest: string;
  /** The platform the image was built for (a host of another architecture cannot run it). */
  platform: { os: string; architecture: string };
  format: ImageFormat;
}

export interface ImportImageOptions {
  /** Which image of an archive or layout that holds several (`app:1.0`, or `@1` in a docker archive). */
  ref?: string;
  /** An empty directory of the caller's, removed by the caller afterwards; the rootfs is unpacked in it. */
  workDir: string;
  /** Passed to skopeo and umoci. @defaultValue 600000 */
  timeoutMs?: number;
  cancelSignal?: AbortSignal;
}

/**
 * Turns `--image FILE|DIR` into a root filesystem and an image config on the controller: skopeo
 * copies the archive or layout into a fresh OCI layout, umoci unpacks it (as root: with the
 * image's own file owners), and the image's config is read from the layout.
 */
export async function importImage(path: string, opts: ImportImageOptions): Promise<ImportedImage> {
  let source = path;
  let format = await detectImageFormat(path);
  if (format === null) {
    // skopeo 1.9 reads no compressed docker archive: gunzip it first (`docker save | gzip`).
    source = join(opts.workDir, 'image.tar');
    await gunzip(path, source);
    format = await detectArchive(source, path);
  }
  const layout = join(opts.workDir, 'layout');
  const unpacked = join(opts.workDir, 'bundle');
  const run = { timeoutMs: opts.timeoutMs ?? 600_000, cancelSignal: opts.cancelSignal };
  // No signature policy applies: the source is a local file the operator named, not a registry.
  await tool('skopeo', ['copy', '--quiet', '--insecure-policy', skopeoReference(format, source, opts.ref), `oci:${layout}:${LAYOUT_TAG}`], run, path);
  const digest = manifestDigest(await readJson<OciIndex>(join(layout, 'index.json')), LAYOUT_TAG);
  const manifest = await readJson<{ config?: { digest?: string } }>(blobPath(layout, digest));
  if (!manifest.config?.digest) throw new FerryError(ErrorCode.ImageInvalid, `the manifest of ${path} names no config`);
  const blob = await readJson<{ os?: string; architecture?: string; config?: ImageConfig }>(blobPath(layout, manifest.config.digest));
  const rootless = typeof process.getuid === 'function' && process.getuid() !== 0;
  await tool('umoci', ['unpack', ...(rootless ? ['--rootless'] : []), '--image', `${layout}:${LAYOUT_TAG}`, unpacked], run, path);
  const umociConfig = await readJson<{ process?: { user?: OciUser } }>(join(unpacked, 'config.json'));
  return {
    rootfs: join(unpacked, 'rootfs'),
    image: blob.config ?? {},
    user: umociConfig.process?.user ?? { uid: 0, gid: 0 },
    digest,
    platform: { os: blob.os ?? 'linux', architecture: blob.architecture ?? 'unknown' },
    format,
  };
}

/** Which transport reads `path`; null for a gzip-compressed file (to be unpacked first). */
export async function detectImageFormat(path: string): Promise<ImageFormat | null> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new FerryError(ErrorCode.ImageInvalid, `cannot read the image ${path}: ${errorMessage(e)}`);
  }
  if (st.isDirectory()) {
    const layout = await stat(join(path, 'oci-layout')).catch(() => null);
    if (!layout) throw new FerryError(ErrorCode.ImageInvalid, `${path} is a directory without an oci-layout file: give an OCI image layout, a docker save archive or an OCI archive (a bundle goes with --bundle, a root filesystem with --rootfs)`);
    return 'oci';
  }
  const head = Buffer.alloc(8);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const compression = compressionOf(head);
  if (compression === 'gzip') return null;
  if (compression) throw new FerryError(ErrorCode.ImageInvalid, `${path} is ${compression}-compressed: decompress it first (only gzip is read directly)`);
  return detectArchive(path, path);
}

async function detectArchive(file: string, shownAs: string): Promise<'docker-archive' | 'oci-archive'> {
  let listing;
  try {
    listing = await runLocal('tar', ['-tf', file], { timeoutMs: 600_000 });
  } catch (e) {
    throw new FerryError(ErrorCode.ImageInvalid, `${shownAs} is not a tar archive: ${errorMessage(e)}`, { original: e });
  }
  const kind = classifyArchive(listing.stdout.split('\n'));
  if (!kind) throw new FerryError(ErrorCode.ImageInvalid, `${shownAs} is a tar archive but neither a docker save archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)`);
  return kind;
}

async function gunzip(from: string, to: string): Promise<void> {
  await mkdir(join(to, '..'), { recursive: true });
  try {
    await pipeline(createReadStream(from), createGunzip(), createWriteStream(to));
  } catch (e) {
    throw new FerryError(ErrorCode.ImageInvalid, `cannot gunzip ${from}: ${errorMessage(e)}`, { original: e });
  }
}

async function tool(file: 'skopeo' | 'umoci', args: string[], run: { timeoutMs: number; cancelSignal?: AbortSignal }, image: string): Promise<void> {
  try {
    await runLocal(file, args, run);
  } catch (e) {
    // runLocal says ToolMissing for a program that is not on PATH; this says which package has it.
    if (isFerryError(e, ErrorCode.ToolMissing) || (isFerryError(e, ErrorCode.CommandFailed) && e.details?.code === -1)) {
      throw new FerryError(ErrorCode.ToolMissing, `${file} is not installed on the controller: apt-get install ${file} (scripts/setup.sh does)`, { original: e });
    }
    if (isFerryError(e, ErrorCode.CommandFailed)) {
      throw new FerryError(ErrorCode.ImageInvalid, `${file} could not read the image ${image}: ${e.message}`, { original: e, details: e.details });
    }
    throw e;
  }
}

async function readJson<T>(file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    throw new FerryError(ErrorCode.ImageInvalid, `cannot read ${file} of the image: ${errorMessage(e)}`, { original: e });
  }
}
