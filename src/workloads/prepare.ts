import { lstat, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { buildFerryConfig, type ContainerOptions, type FerryContainerSpec } from './ferry-config.ts';
import { importImage, type ImportedImage } from './image.ts';
import type { OciSpec } from './oci.ts';
import { assertMovable } from './refusals.ts';

/** What `ferry deploy NAME` was given to run: `--image`, `--bundle` or `--rootfs`. */
export type ContainerInput =
  /** A docker/podman save archive (gzip allowed), an OCI archive or an OCI layout directory; `ref` picks one of several images. */
  | { image: string; ref?: string }
  /** An existing OCI bundle: its config.json is taken, then normalised. */
  | { bundle: string }
  /** A root filesystem; the command comes from `--cmd`. */
  | { rootfs: string };

/**
 * What goes to the host: `localDir` is copied to the bundle directory itself (a user's bundle,
 * minus its config.json, which Ferry writes) or to its `rootfs/` (an image's or a rootfs); a
 * `tarball` (zstd, numeric owners, as scripts/build-rootfs.sh writes them) is copied as one file
 * and unpacked into `rootfs/` on the host.
 */
export type BundleUpload = DirUpload | TarballUpload;

/** A directory on the controller, rsync'd to the host. */
export interface DirUpload {
  localDir: string;
  into: 'bundle' | 'rootfs';
}

/** A root filesystem tarball on the controller (`*.tar.zst`), copied to the host's rootfs cache and unpacked there. */
export interface TarballUpload {
  tarball: string;
  into: 'rootfs';
}

export interface PreparedContainer {
  spec: FerryContainerSpec;
  upload: DirUpload;
  /** For `--image`: the image that was unpacked (digest, platform, format). */
  image?: Omit<ImportedImage, 'rootfs' | 'image' | 'user'>;
}

/**
 * Turns any of the inputs into a Ferry container spec and what to copy to the host, on the
 * controller; refuses (with coded errors) what CRIU cannot move. `workDir` is an empty directory
 * for an image's layout and rootfs: the caller removes it once the container is deployed.
 */
export async function prepareContainer(input: ContainerInput, opts: ContainerOptions, workDir: string): Promise<PreparedContainer> {
  let prepared: PreparedContainer;
  if ('image' in input) {
    const imported = await importImage(resolve(input.image), { ref: input.ref, workDir });
    const { rootfs, image, user, ...about } = imported;
    prepared = { spec: buildFerryConfig({ kind: 'image', image, user }, opts), upload: { localDir: rootfs, into: 'rootfs' }, image: about };
  } else if ('bundle' in input) {
    const dir = resolve(input.bundle);
    const config = await readBundleConfig(dir);
    const spec = buildFerryConfig({ kind: 'bundle', config }, opts);
    await requireDir(join(dir, spec.config.root!.path), `the bundle's root.path (${spec.config.root!.path})`);
    prepared = { spec, upload: { localDir: dir, into: 'bundle' } };
  } else {
    const dir = resolve(input.rootfs);
    await requireDir(dir, 'the rootfs');
    prepared = { spec: buildFerryConfig({ kind: 'rootfs' }, opts), upload: { localDir: dir, into: 'rootfs' } };
  }
  assertMovable(prepared.spec.config, opts.name);
  const rootfs = prepared.upload.into === 'rootfs' ? prepared.upload.localDir : join(prepared.upload.localDir, prepared.spec.config.root!.path);
  await requireProgram(rootfs, prepared.spec.config.process!.args![0]!, opts.name);
  return prepared;
}

async function readBundleConfig(dir: string): Promise<OciSpec> {
  let text: string;
  try {
    text = await readFile(join(dir, 'config.json'), 'utf8');
  } catch (e) {
    throw new FerryError(ErrorCode.BundleInvalid, `no readable config.json in the bundle ${dir}: ${errorMessage(e)} (a root filesystem alone goes with --rootfs and --cmd)`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new FerryError(ErrorCode.BundleInvalid, `${dir}/config.json is not valid JSON: ${errorMessage(e)}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new FerryError(ErrorCode.BundleInvalid, `${dir}/config.json is not an OCI runtime spec (expected an object)`);
  return config as OciSpec;
}

async function requireDir(dir: string, what: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new FerryError(ErrorCode.BundleInvalid, `${what} ${dir} is not a directory`);
}

/** An absolute command must exist in the rootfs, or runc fails at start with a less helpful message. */
async function requireProgram(rootfs: string, program: string, name: string): Promise<void> {
  if (!program.startsWith('/')) return; // looked up in the container's PATH at start
  // lstat: an absolute symlink (/bin/sh -> /bin/busybox) points into the rootfs, not the controller.
  const st = await lstat(join(rootfs, program)).catch(() => null);
  if (!st) throw new FerryError(ErrorCode.BundleInvalid, `${name}'s command ${program} is not in its root filesystem ${rootfs}`);
}
