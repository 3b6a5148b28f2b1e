import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Integration tests need what CI has: root (namespaces, mounts, CRIU) and CRIU >= 4.2 on PATH.
 * Returns why they cannot run here, or null. CI runs as root, so there they always run.
 */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root: the namespace lab creates network namespaces, bridges and mounts, and CRIU needs CAP_SYS_ADMIN';
  try {
    const v = execFileSync('criu', ['--version'], { encoding: 'utf8' });
    const m = /Version:\s*(\d+)\.(\d+)/.exec(v);
    if (!m || Number(m[1]) * 100 + Number(m[2]) < 402) return `needs CRIU >= 4.2 on PATH (found: ${v.trim()}); run scripts/setup.sh`;
  } catch {
    return 'needs CRIU >= 4.2 on PATH: run scripts/setup.sh';
  }
  return null;
}

/** Why the two-cloud lab (WireGuard between two gateways, a capture on the tunnel) cannot run here, or null. */
export function twoCloudsUnavailable(): string | null {
  const base = labUnavailable();
  if (base) return base;
  for (const [tool, pkg] of [
    ['wireguard-go', 'wireguard-go'],
    ['wg', 'wireguard-tools'],
    ['tcpdump', 'tcpdump'],
    ['iperf3', 'iperf3'],
    ['ping', 'iputils-ping'],
  ]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (apt-get install ${pkg}; scripts/setup.sh installs it)`;
  }
  if (spawnSync('test', ['-c', '/dev/net/tun']).status !== 0) return 'needs /dev/net/tun (modprobe tun): wireguard-go makes its interface there';
  return null;
}

/** Why the qemu lab (VMs booting a stock kernel, each on the lab bridge by a tap) cannot run here, or null. */
export function qemuUnavailable(): string | null {
  const base = labUnavailable();
  if (base) return base;
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun (modprobe tun): each VM is attached to the lab bridge by a tap device';
  return null;
}

export function skipNote(reason: string | null, what: string): void {
  if (reason) console.warn(`SKIPPED ${what}: ${reason}`);
}

/**
 * `npm test` (and CI) runs a representative subset of the slow suites: every case at least once.
 * `npm run test:full` sets FERRY_TEST_SCOPE=full for everything (the whole fault matrix, every
 * method in the qemu lab).
 */
export const FULL_SCOPE = process.env.FERRY_TEST_SCOPE === 'full';
