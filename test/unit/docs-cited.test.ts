import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';

/** Every document the code and scripts cite (`SOMETHING.md`) is in the repository, at the root or at the cited path. */

/** Files the code writes, not documents it cites. */
const WRITTEN = new Set(['bench.md']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('documents the code cites', () => {
  const cited = new Map<string, string[]>();
  for (const d of ['src', 'scripts', 'playbooks', 'terraform', 'bin']) {
    for (const f of files(path.join(REPO_ROOT, d))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b/g)) {
        if (WRITTEN.has(path.basename(m[0]))) continue;
        cited.set(m[0], [...(cited.get(m[0]) ?? []), path.relative(REPO_ROOT, f)]);
      }
    }
  }

  it('finds some citations (the scan works)', () => {
    expect(cited.has('terraform/CONTRACT.md')).toBe(true);
  });

  it.each([...cited.keys()])('%s exists', (doc) => {
    expect(existsSync(path.join(REPO_ROOT, doc)), `${doc}, cited by ${cited.get(doc)!.join(', ')}`).toBe(true);
  });
});
