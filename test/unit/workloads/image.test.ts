import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { blobPath, classifyArchive, compressionOf, importImage, manifestDigest, skopeoReference } from '../../../src/workloads/image.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('image helpers', () => {
  it('tells archives apart by their entries', () => {
    // As `docker save` (before 25), `podman save`, skopeo's oci-archive and Docker 25+ write them.
    expect(classifyArchive(['a818df3c/layer.tar', 'a818df3c/json', 'e87d.json', 'manifest.json', 'repositories'])).toBe('docker-archive');
    expect(classifyArchive(['blobs/', 'blobs/sha256/', 'blobs/sha256/a35d', 'index.json', 'oci-layout'])).toBe('oci-archive');
    expect(classifyArchive(['blobs/sha256/a35d', 'index.json', 'manifest.json', 'oci-layout', 'repositories'])).toBe('docker-archive');
    expect(classifyArchive(['./manifest.json'])).toBe('docker-archive');
    expect(classifyArchive(['rootfs/bin/sh', 'index.json'])).toBeNull();
  });

  it('recognises compression by magic bytes', () => {
    expect(compressionOf(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(compressionOf(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(compressionOf(Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(compressionOf(Uint8Array.from([0x42, 0x5a, 0x68, 0x39]))).toBe('bzip2');
    expect(compressionOf(Buffer.from('manifest'))).toBeNull();
  });

  it("builds skopeo's references and refuses what it would misread", () => {
    expect(skopeoReference('docker-archive', '/tmp/app.tar')).toBe('docker-archive:/tmp/app.tar');
    expect(skopeoReference('docker-archive', '/tmp/app.tar', 'hx/app:1')).toBe('docker-archive:/tmp/app.tar:hx/app:1');
    expect(skopeoReference('oci', '/srv/layout', 'app')).toBe('oci:/srv/layout:app');
    expect(skopeoReference('docker-archive', '/tmp/app.tar', '@1')).toBe('docker-archive:/tmp/app.tar:@1');
    catchFerry(() => skopeoReference('oci', '/srv/a:b'), ErrorCode.ImageInvalid);
    catchFerry(() => skopeoReference('oci', '/srv/a', 'x y'), ErrorCode.ImageInvalid);
    catchFerry(() => skopeoReference('oci', '/srv/a', ''), ErrorCode.ImageInvalid);
  });

  it('finds the tagged manifest and its blob file', () => {
    const index = { manifests: [{ digest: 'sha256:aa', annotations: { 'org.opencontainers.image.ref.name': 'other' } }, { digest: 'sha256:8402a39eb587a29731c72eecc2072d58c48bcc38df0f5d8d00bb9bd65f1eacb6', annotations: { 'org.opencontainers.image.ref.name': 'ferry' } }] };
    const d = manifestDigest(index, 'ferry');
    expect(blobPath('/w/layout', d)).toBe('/w/layout/blobs/sha256/8402a39eb587a29731c72eecc2072d58c48bcc38df0f5d8d00bb9bd65f1eacb6');
    catchFerry(() => manifestDigest(index, 'none'), ErrorCode.ImageInvalid);
    catchFerry(() => blobPath('/w', 'sha256:../../etc/passwd'), ErrorCode.ImageInvalid);
  });

  it('says skopeo is missing when it is not on PATH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hx-images-nopath-'));
    const path = process.env.PATH;
    try {
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      process.env.PATH = join(dir, 'empty');
      const e = await importImage(dir, { workDir: dir }).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(FerryError);
      expect((e as FerryError).code).toBe(ErrorCode.ToolMissing);
      expect((e as FerryError).message).toContain('apt-get install skopeo');
    } finally {
      process.env.PATH = path;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
