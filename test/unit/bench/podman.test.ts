import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PODMAN_IMAGE, PODMAN_PATHS, checkpointArgv, containersConf, importArgv, loadArgv, parseCheckpointStats, parsePodmanVersion,
  parseRestoreStats, podmanArgv, restoreArgv, rmArgv, runArgv, saveArgv,
} from '../../../src/bench/podman.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { catchFerry } from '../catch-ferry.ts';

const fixture = (f: string) => readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8');

/** The value following a flag, asserting the flag is present once. */
function flag(args: string[], name: string): string | undefined {
  expect(args.filter((a) => a === name)).toHaveLength(1);
  return args[args.indexOf(name) + 1];
}

describe('podmanArgv', () => {
  it("runs podman with Ferry's per-host state, configuration and runtime", () => {
    const argv = podmanArgv(['ps']);
    expect(argv.slice(0, 3)).toEqual(['env', `CONTAINERS_CONF=${PODMAN_PATHS.conf}`, 'podman']);
    expect(flag(argv, '--root')).toBe('/var/lib/ferry/podman/storage');
    expect(flag(argv, '--runroot')).toBe('/run/ferry/podman');
    expect(flag(argv, '--runtime')).toBe('runc');
    expect(flag(argv, '--cgroup-manager')).toBe('cgroupfs');
    expect(flag(argv, '--events-backend')).toBe('file');
    expect(argv.at(-1)).toBe('ps');
  });

  it('keeps every path under the per-host directories of a lab host', () => {
    for (const p of Object.values(PODMAN_PATHS)) expect(p.startsWith('/var/lib/ferry/') || p.startsWith('/run/ferry/')).toBe(true);
  });
});

describe('containersConf', () => {
  const conf = containersConf();
  it('sets what podman needs on these hosts', () => {
    expect(conf).toContain('default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]');
    expect(conf).toContain('runtime = "runc"');
    expect(conf).toContain('cgroup_manager = "cgroupfs"');
    expect(conf).toContain('events_logger = "file"');
    expect(conf).toContain('log_driver = "k8s-file"');
    expect(conf).toContain('lock_type = "file"'); // in tmp_dir, per host: /dev/shm is shared in the namespace lab
    expect(conf).toContain(`tmp_dir = "${PODMAN_PATHS.tmp}"`);
    expect(conf).toContain(`network_config_dir = "${PODMAN_PATHS.networks}"`);
  });

  it('puts each key under its own table', () => {
    const table = (key: string) => {
      const lines = conf.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${key} =`));
      return lines.slice(0, at).reverse().find((l) => l.startsWith('['));
    };
    expect(table('default_ulimits')).toBe('[containers]');
    expect(table('cgroup_manager')).toBe('[engine]');
    expect(table('lock_type')).toBe('[engine]');
    expect(table('network_config_dir')).toBe('[network]');
  });
});

describe('podman subcommands', () => {
  it('runs the web workload on the host network with the lowered ulimits and incompressible ballast', () => {
    const a = runArgv({ name: 'ferry-podman-1', port: 8092, mib: 256, dirtyMiBPerS: 1 });
    expect(a.slice(0, 4)).toEqual(['run', '-d', '--name', 'ferry-podman-1']);
    expect(flag(a, '--network')).toBe('host');
    expect(a.filter((_x, i) => a[i - 1] === '--ulimit')).toEqual(['nofile=20000:20000', 'nproc=4096:4096']);
    expect(a.filter((_x, i) => a[i - 1] === '--env')).toEqual(['FERRY_NAME=ferry-podman-1', 'FERRY_PORT=8092', 'BALLAST_MIB=256', 'DIRTY_MIB_PER_S=1', 'INTERVAL_MS=100']);
    expect(a.slice(-3)).toEqual([PODMAN_IMAGE, '/bin/sh', '/start.sh']);
  });

  it('checkpoints uncompressed, with statistics, to an archive', () => {
    expect(checkpointArgv('c1', '/x/cp.tar')).toEqual(['container', 'checkpoint', '--export', '/x/cp.tar', '--compress', 'none', '--print-stats', 'c1']);
  });

  it('restores from the archive under a new name', () => {
    expect(restoreArgv('/x/cp.tar', 'c2')).toEqual(['container', 'restore', '--import', '/x/cp.tar', '--name', 'c2', '--print-stats']);
  });

  it('builds the image from a rootfs tarball and moves it by save and load (same image id on both hosts)', () => {
    const imp = importArgv('/r.tar');
    expect(imp.slice(-2)).toEqual(['/r.tar', PODMAN_IMAGE]);
    expect(imp.filter((_x, i) => imp[i - 1] === '--change')).toEqual(['CMD ["/bin/sh", "/start.sh"]', 'WORKDIR /www']);
    expect(saveArgv('/i.tar')).toEqual(['save', '--format', 'docker-archive', '-o', '/i.tar', PODMAN_IMAGE]);
    expect(loadArgv('/i.tar')).toEqual(['load', '-i', '/i.tar']);
  });

  it('refuses container names podman or a shell could misread', () => {
    for (const bad of ['-rf', 'Web', 'a b', 'x;y', '']) {
      catchFerry(() => rmArgv(bad), ErrorCode.InvalidName);
      catchFerry(() => checkpointArgv(bad, '/x'), ErrorCode.InvalidName);
      catchFerry(() => runArgv({ name: bad, port: 1, mib: 1, dirtyMiBPerS: 0 }), ErrorCode.InvalidName);
    }
  });
});

describe('podman output', () => {
  it('reads the version', () => {
    expect(parsePodmanVersion('podman version 4.3.1\n')).toBe('4.3.1');
    expect(parsePodmanVersion('bash: podman: command not found')).toBeNull();
  });

  it('reads a real checkpoint --print-stats', () => {
    expect(parseCheckpointStats(fixture('podman-checkpoint-stats.json'))).toEqual({
      podmanUs: 1229183, runtimeUs: 981248, freezingUs: 118404, frozenUs: 475241, memdumpUs: 80541, memwriteUs: 76721, pagesScanned: 4145, pagesWritten: 4131,
    });
  });

  it('reads a real restore --print-stats', () => {
    expect(parseRestoreStats(fixture('podman-restore-stats.json'))).toEqual({ podmanUs: 1537880, runtimeUs: 1218106, forkingUs: 5533, restoreUs: 690220, pagesRestored: 4131 });
  });

  it('finds the JSON among other lines, and fails without it', () => {
    expect(parseRestoreStats(`WARN[0000] something\n${fixture('podman-restore-stats.json')}`).pagesRestored).toBe(4131);
    expect(catchFerry(() => parseCheckpointStats('Error: no such container'), ErrorCode.PeerFailed).message).toContain('printed no JSON');
  });

  it('reads missing figures as 0 rather than inventing them', () => {
    expect(parseCheckpointStats('{"podman_checkpoint_duration": 5}')).toMatchObject({ podmanUs: 5, frozenUs: 0, pagesWritten: 0 });
  });
});
