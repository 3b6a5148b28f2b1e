import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/config.ts';

/**
 * The pure parts of scripts/lib/criu-source.sh (reading Debian's source index, picking the version,
 * reading a .dsc's or an InRelease's checksums, refusing a mismatch), run by bash on fixtures cut from
 * Debian's real index. The download itself needs Debian's mirror and is not run here; it was run by hand
 * (see the file's header for what it verifies).
 */

const LIB = path.join(REPO_ROOT, 'scripts', 'lib', 'criu-source.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'ferry-criu-src-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bash(script: string, stdin = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync('/bin/bash', ['-c', `. '${LIB}'; die() { printf 'ERROR: %s\\n' "$*" >&2; exit 1; }; ${script}`], { input: stdin, encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' } }); // no ~/.bashrc: see prereqs.test.ts
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const stanza = (version: string, sha: string[], extra = '') => `Package: criu
Binary: criu, libcriu2
Version: ${version}
Maintainer: Salvatore Bonaccorso <carnil@debian.org>
Files:
 680c50418f796b55464947dc117a7cf4 2901 criu_${version.replace(/^\d+:/, '')}.dsc
Checksums-Sha256:
${sha.join('\n')}
Homepage: https://www.criu.org/
Package-List:
 criu deb admin optional arch=amd64
Directory: pool/main/c/criu
${extra}`;

const SOURCES = [
  `Package: crip\nVersion: 9.9-1\nChecksums-Sha256:\n ${'a'.repeat(64)} 1 crip_9.9.orig.tar.xz\nDirectory: pool/main/c/crip\n`,
  stanza('4.2.1-1', [
    ' 9286c86e5adfd70b97a68e117c2905d91bf9e31132296e7ebf57066189a2f0b0 2901 criu_4.2.1-1.dsc',
    ' 29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9 1038700 criu_4.2.1.orig.tar.xz',
    ' e9f797a19f0e7dd66d480bea47f2ef261b3d9aee6bab5059882c0074b1b84d2d 12964 criu_4.2.1-1.debian.tar.xz',
  ]),
  stanza('4.1.1-2', [` ${'1'.repeat(64)} 2000 criu_4.1.1-2.dsc`, ` ${'2'.repeat(64)} 900000 criu_4.1.1.orig.tar.xz`]),
  stanza('4.3~rc1-1', [` ${'3'.repeat(64)} 2000 criu_4.3~rc1-1.dsc`]),
  stanza('1:4.2-1', [` ${'4'.repeat(64)} 2000 criu_4.2-1.dsc`], 'Section: misc\n'),
].join('\n');

describe('criu_sources_entries', () => {
  it('lists every criu version with its directory and its Checksums-Sha256, and nothing of other packages', () => {
    const r = bash('criu_sources_entries', SOURCES);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      'V 4.2.1-1 pool/main/c/criu',
      'H 4.2.1-1 9286c86e5adfd70b97a68e117c2905d91bf9e31132296e7ebf57066189a2f0b0 2901 criu_4.2.1-1.dsc',
      'H 4.2.1-1 29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9 1038700 criu_4.2.1.orig.tar.xz',
      'H 4.2.1-1 e9f797a19f0e7dd66d480bea47f2ef261b3d9aee6bab5059882c0074b1b84d2d 12964 criu_4.2.1-1.debian.tar.xz',
      'V 4.1.1-2 pool/main/c/criu',
      `H 4.1.1-2 ${'1'.repeat(64)} 2000 criu_4.1.1-2.dsc`,
      `H 4.1.1-2 ${'2'.repeat(64)} 900000 criu_4.1.1.orig.tar.xz`,
      'V 4.3~rc1-1 pool/main/c/criu',
      `H 4.3~rc1-1 ${'3'.repeat(64)} 2000 criu_4.3~rc1-1.dsc`,
      'V 1:4.2-1 pool/main/c/criu',
      `H 1:4.2-1 ${'4'.repeat(64)} 2000 criu_4.2-1.dsc`,
    ]);
  });
});

describe('pick_criu_version', () => {
  const V = (vs: string[]) => vs.map((v) => `V ${v} pool/main/c/criu`).join('\n') + '\n';

  it('takes the newest version whose upstream part is at least the minimum', () => {
    expect(bash('pick_criu_version 4.2', V(['4.1.1-2', '4.2.1-1', '4.3~rc1-1'])).out).toBe('4.3~rc1-1 pool/main/c/criu\n');
    expect(bash('pick_criu_version 4.2', V(['4.2.1-1', '4.2.1-2', '4.1.1-2'])).out).toBe('4.2.1-2 pool/main/c/criu\n');
  });

  it('does not count a 4.2 release candidate as 4.2', () => {
    expect(bash('pick_criu_version 4.2', V(['4.1.1-2', '4.2~rc2-1'])).out).toBe('');
  });

  it('reads epochs: 1:4.2-1 is newer than 4.3-1', () => {
    expect(bash('pick_criu_version 4.2', V(['4.3-1', '1:4.2-1'])).out).toBe('1:4.2-1 pool/main/c/criu\n');
  });

  it('takes exactly the upstream version asked for, when one is', () => {
    expect(bash('pick_criu_version 4.2 4.2.1', V(['4.3-1', '4.2.1-1', '4.2.1-3'])).out).toBe('4.2.1-3 pool/main/c/criu\n');
    expect(bash('pick_criu_version 4.2 4.9', V(['4.3-1'])).out).toBe('');
  });
});

describe('listed_sha256 and verify_sha256', () => {
  const dsc = path.join(dir, 'criu_4.2.1-1.dsc');
  writeFileSync(
    dsc,
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nFormat: 3.0 (quilt)\nSource: criu\nVersion: 4.2.1-1\nChecksums-Sha1:\n ${'f'.repeat(40)} 1038700 criu_4.2.1.orig.tar.xz\nChecksums-Sha256:\n 29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9 1038700 criu_4.2.1.orig.tar.xz\n e9f797a19f0e7dd66d480bea47f2ef261b3d9aee6bab5059882c0074b1b84d2d 12964 criu_4.2.1-1.debian.tar.xz\n`,
  );
  const release = path.join(dir, 'InRelease.txt');
  writeFileSync(release, `Origin: Debian\nMD5Sum:\n 76949361773bb59245bcda655f53134e 69560278 main/source/Sources\nSHA256:\n ea8b5b3813fae361abf24f13cde1d18c2f90cbd8891e38ca3e36965a0790a9e7 69560278 main/source/Sources\n ${'9'.repeat(64)} 1 main/source/Sources.xz\n`);

  it('reads the SHA-256 a .dsc lists for its tarball, not the SHA-1', () => {
    expect(bash(`listed_sha256 '${dsc}' criu_4.2.1.orig.tar.xz`).out).toBe('29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9\n');
  });

  it('reads the SHA-256 an InRelease lists for the source index, not the MD5', () => {
    expect(bash(`listed_sha256 '${release}' main/source/Sources`).out).toBe('ea8b5b3813fae361abf24f13cde1d18c2f90cbd8891e38ca3e36965a0790a9e7\n');
  });

  it('refuses a file whose SHA-256 differs, naming what it checked', () => {
    const f = path.join(dir, 'tarball');
    writeFileSync(f, 'not criu');
    const r = bash(`verify_sha256 '${f}' ${'0'.repeat(64)} 'criu_4.2.1.orig.tar.xz (against the Checksums-Sha256 of criu_4.2.1-1.dsc)'`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERROR: criu_4\.2\.1\.orig\.tar\.xz \(against the Checksums-Sha256 of criu_4\.2\.1-1\.dsc\): SHA-256 mismatch \(.* has [0-9a-f]{64}, expected 0{64}\)\n$/);
    expect(bash(`verify_sha256 '${f}' '' 'the tarball'`).err).toBe('ERROR: no SHA-256 listed for the tarball\n');
  });

  it('upstream_of drops the epoch and the Debian revision', () => {
    expect(bash('upstream_of 1:4.2.1-1; upstream_of 4.3~rc1-2; upstream_of 4.2').out).toBe('4.2.1\n4.3~rc1\n4.2\n');
  });
});
