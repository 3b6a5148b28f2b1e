import { describe, expect, it } from 'vitest';
import { mountsUnder } from '../../../src/migrate/debris.ts';

const mountinfo = [
  '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '24 22 0:22 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1621892k,mode=755',
  '101 24 0:50 / /run/ferry/runc/web1 rw,relatime shared:60 - tmpfs tmpfs rw',
  '102 101 0:51 / /run/ferry/runc/web1/criu-root rw,relatime - tmpfs none rw',
  '103 102 0:52 / /run/ferry/runc/web1/criu-root/.criu.cgyard.Ab12Cd rw,relatime - tmpfs none rw',
  '104 24 0:53 / /run/ferry/runc/web10 rw,relatime - tmpfs tmpfs rw',
  '105 104 0:54 / /run/ferry/runc/web10/criu-root rw,relatime - tmpfs none rw',
  '106 24 0:55 / /run/ferry/runc/web1-old rw,relatime - tmpfs tmpfs rw',
  '107 101 0:56 / /run/ferry/runc/web1/with\\040space rw,relatime - tmpfs none rw',
  '',
].join('\n');

describe('mountsUnder', () => {
  it('lists the directory and the mounts below it, deepest first', () => {
    expect(mountsUnder(mountinfo, '/run/ferry/runc/web1')).toEqual([
      '/run/ferry/runc/web1/criu-root/.criu.cgyard.Ab12Cd',
      '/run/ferry/runc/web1/with space',
      '/run/ferry/runc/web1/criu-root',
      '/run/ferry/runc/web1',
    ]);
  });

  it('matches the prefix only on a path boundary (web1 is not web10 or web1-old)', () => {
    const got = mountsUnder(mountinfo, '/run/ferry/runc/web1');
    expect(got.some((m) => m.startsWith('/run/ferry/runc/web10'))).toBe(false);
    expect(got).not.toContain('/run/ferry/runc/web1-old');
  });

  it('finds nothing for a directory with no mounts', () => {
    expect(mountsUnder(mountinfo, '/var/lib/ferry/images/m-1')).toEqual([]);
  });

  it('unmounts children before parents for every nesting level', () => {
    const got = mountsUnder(mountinfo, '/run/ferry/runc');
    for (const [i, m] of got.entries()) {
      for (const later of got.slice(i + 1)) expect(later.startsWith(`${m}/`), `${later} listed after its parent ${m}`).toBe(false);
    }
    expect(got).toHaveLength(7);
  });

  it('handles empty mountinfo', () => {
    expect(mountsUnder('', '/run')).toEqual([]);
  });
});
