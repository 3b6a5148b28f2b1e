import { describe, expect, it } from 'vitest';
import { count, formatBytes, renderTable } from '../../../src/util/table.ts';

describe('renderTable', () => {
  it('aligns text left and numbers right, with a dash rule under the header', () => {
    const t = renderTable(
      ['host', 'containers', 'memory'],
      [
        ['lab-1', 3, '512 MiB'],
        ['lab-two', 12, '1.5 GiB'],
      ],
    );
    expect(t.split('\n')).toEqual([
      'host     containers   memory',
      '-------  ----------  -------',
      'lab-1             3  512 MiB',
      'lab-two          12  1.5 GiB',
    ]);
  });

  it('treats numeric-looking strings as numbers', () => {
    const t = renderTable(['a', 'n'], [['x', '1.50'], ['y', '-12']]);
    expect(t.split('\n').slice(2)).toEqual(['x  1.50', 'y   -12']);
  });

  it('left-aligns a column with any non-numeric cell', () => {
    const t = renderTable(['name', 'v'], [['x', '10'], ['y', 'n/a']]);
    expect(t.split('\n').slice(2)).toEqual(['x     10', 'y     n/a']);
  });

  it('widens a column to its header', () => {
    const t = renderTable(['long header', 'b'], [['x', 'y']]);
    expect(t.split('\n')).toEqual(['long header  b', '-----------  -', 'x            y']);
  });

  it('trims trailing spaces from lines', () => {
    const t = renderTable(['a', 'b'], [['xxxxx', '']]);
    for (const line of t.split('\n')) expect(line).toBe(line.trimEnd());
  });

  it('renders a header-only table', () => {
    expect(renderTable(['a', 'bb'], [])).toBe('a  bb\n-  --');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024, '10 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [300 * 1024 * 1024, '300 MiB'],
    [2 * 1024 ** 3, '2.0 GiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
    [2048 * 1024 ** 4, '2048 TiB'],
  ])('formats %d as %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });

  it('shows a dash for unknown sizes', () => {
    expect(formatBytes(null)).toBe('-');
    expect(formatBytes(undefined)).toBe('-');
  });
});

describe('count', () => {
  it('is singular for exactly one, plural otherwise', () => {
    expect(count(1, 'change')).toBe('1 change');
    expect(count(0, 'change')).toBe('0 changes');
    expect(count(2, 'failure')).toBe('2 failures');
    expect(count(3, 'host', 'hosts')).toBe('3 hosts');
  });
});
