import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';

/** The README's folder table (Architecture) against the tree: it names every folder, once, and only folders that exist. */

function folderTable(): { folders: string[]; row: string }[] {
  const lines = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.indexOf('| folder | what lives there |');
  expect(start, 'the README has a folder table').toBeGreaterThan(0);
  const rows: { folders: string[]; row: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const first = line.split('|')[1]!;
    rows.push({ row: first.trim(), folders: [...first.matchAll(/`([^`]+\/)`/g)].map((m) => m[1]!.replace(/\/$/, '')) });
  }
  return rows;
}

/** Top-level folders git tracks (a clean clone's tree: no node_modules, build or caches). */
function trackedTopFolders(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  return [...new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]!))].sort();
}

describe("the README's folder table", () => {
  const rows = folderTable();
  const named = new Set(rows.flatMap((r) => r.folders));

  it('has no row twice', () => {
    const keys = rows.map((r) => r.row);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('names every folder of src/', () => {
    const src = readdirSync(path.join(REPO_ROOT, 'src')).filter((n) => statSync(path.join(REPO_ROOT, 'src', n)).isDirectory());
    expect(src.map((n) => `src/${n}`).filter((f) => !named.has(f))).toEqual([]);
  });

  it('names every top-level folder git tracks (src/ through its subfolders)', () => {
    const covered = (f: string) => named.has(f) || [...named].some((n) => n.startsWith(`${f}/`));
    expect(trackedTopFolders().filter((f) => !covered(f))).toEqual([]);
  });

  it('names only folders that exist', () => {
    expect([...named].filter((f) => !existsSync(path.join(REPO_ROOT, f)))).toEqual([]);
  });
});
