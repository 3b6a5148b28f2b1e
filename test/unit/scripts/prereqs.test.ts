import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/config.ts';

/**
 * scripts/lib/prereqs.sh, the first check of scripts/setup.sh, run by bash with a PATH holding only
 * the fake programs each case needs (tiny scripts printing a version). Nothing here can install
 * anything: without `id`, `apt-get` and `curl` on that PATH the vendors' repositories count as
 * unreachable, which is the case the message is for.
 */

const LIB = path.join(REPO_ROOT, 'scripts', 'lib', 'prereqs.sh');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory of fake programs: name → what `NAME --version` / `NAME version` prints. */
function fakeBin(programs: Record<string, string>, links: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-prereqs-'));
  dirs.push(dir);
  for (const [name, output] of Object.entries(programs)) {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' '${output.replace(/'/g, "'\\''")}'\n`);
    chmodSync(file, 0o755);
  }
  for (const real of links) symlinkSync(real, path.join(dir, path.basename(real)));
  return dir;
}

function run(fn: string, bin: string, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const script = `. '${LIB}'; say() { printf '[setup] %s\\n' "$*"; }; die() { printf '[setup] ERROR: %s\\n' "$*" >&2; exit 1; }; ${fn}`;
  // HOME points nowhere: bash reads ~/.bashrc when its stdin is a socket, which is what Node gives a child.
  const r = spawnSync('/bin/bash', ['-c', script], { env: { PATH: bin, HOME: '/nonexistent', ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('require_node', () => {
  it('stops with one message saying how to get Node.js 20 when node is 18 (Debian 12\'s)', () => {
    const bin = fakeBin({ node: 'v18.19.0' });
    const r = run('require_node', bin);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `[setup] ERROR: Node.js 20.10 or newer is needed, found v18.19.0 at ${bin}/node (Debian 12's own nodejs is 18), and NodeSource's repository (https://deb.nodesource.com) cannot be reached from here to install it. Install Node.js 20 or newer yourself (https://nodejs.org/en/download, or NodeSource: https://github.com/nodesource/distributions), make it the first node on PATH, and run scripts/setup.sh again.\n`,
    );
  });

  it('says "none" when there is no node at all', () => {
    const r = run('require_node', fakeBin({}));
    expect(r.code).toBe(1);
    expect(r.err).toContain('Node.js 20.10 or newer is needed, found none (Debian');
  });

  it('refuses 20.9, older than package.json\'s engines', () => {
    expect(run('require_node', fakeBin({ node: 'v20.9.0' })).code).toBe(1);
  });

  it('accepts Node.js 20.10 and later', () => {
    for (const v of ['v20.10.0', 'v20.20.2', 'v22.1.0']) {
      const bin = fakeBin({ node: v });
      const r = run('require_node', bin);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`[setup] node ${v} present at ${bin}/node\n`);
    }
  });
});

describe('require_terraform', () => {
  it('accepts Terraform 1.5 or newer', () => {
    const bin = fakeBin({ terraform: 'Terraform v1.11.4' });
    expect(run('require_terraform', bin)).toMatchObject({ code: 0, out: `[setup] terraform 1.11.4 present at ${bin}/terraform\n` });
  });

  it('links OpenTofu as terraform when only tofu is there', () => {
    const bin = fakeBin({ tofu: 'OpenTofu v1.8.3' }, ['/bin/ln']);
    const linkDir = mkdtempSync(path.join(tmpdir(), 'ferry-prereqs-link-'));
    dirs.push(linkDir);
    const r = run('require_terraform', bin, { FERRY_TOOL_LINK_DIR: linkDir });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`[setup] OpenTofu 1.8.3 at ${bin}/tofu, linked as ${linkDir}/terraform\n`);
    expect(readlinkSync(path.join(linkDir, 'terraform'))).toBe(`${bin}/tofu`);
  });

  it('stops with one message saying how when neither is there', () => {
    const r = run('require_terraform', fakeBin({}));
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      '[setup] ERROR: Terraform 1.5 or newer (or OpenTofu 1.6 or newer) is needed, found none, and HashiCorp\'s repository (https://apt.releases.hashicorp.com) cannot be reached from here to install it. Install Terraform (https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/), put it on PATH, and run scripts/setup.sh again.\n',
    );
  });

  it('names the version it found when it is too old', () => {
    const r = run('require_terraform', fakeBin({ terraform: 'Terraform v1.3.9' }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('is needed, found 1.3.9,');
  });
});

describe('version_at_least', () => {
  it.each([
    ['v20.10.0', '20.10', true],
    ['20.9.9', '20.10', false],
    ['1.10.0', '1.9', true],
    ['1.9', '1.9', true],
    ['1.9.0-rc1', '1.9', true],
    ['2', '1.9', true],
    ['0.15.5', '1.5', false],
  ])('%s >= %s: %s', (have, want, ok) => {
    expect(run(`version_at_least '${have}' '${want}'`, fakeBin({})).code).toBe(ok ? 0 : 1);
  });
});

it('scripts/setup.sh checks these first, before touching apt', () => {
  const setup = spawnSync('/bin/sh', ['-c', `grep -n -e 'require_node' -e 'require_terraform' -e 'ensure_packages "' '${path.join(REPO_ROOT, 'scripts', 'setup.sh')}'`], { encoding: 'utf8' }).stdout;
  const line = (what: string) => Number(new RegExp(`^(\\d+):${what}`, 'm').exec(setup)?.[1]);
  expect(line('require_node$')).toBeGreaterThan(0);
  expect(line('require_node$')).toBeLessThan(line('ensure_packages "'));
  expect(line('require_terraform$')).toBeLessThan(line('ensure_packages "'));
  expect(existsSync(LIB)).toBe(true);
});
