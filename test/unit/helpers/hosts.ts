import type { HostSpec } from '../../../src/hosts/inventory.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';

/** An inventory host in `groups` (as ansible-inventory gives them); `unusable` marks one Ferry never connects to. */
export function groupedHost(name: string, groups: string[], unusable?: string): HostSpec {
  return {
    name,
    address: name,
    port: 22,
    user: 'root',
    privateKeyFile: '/k',
    hostKey: unusable ? '' : 'ssh-ed25519 AAAA',
    environment: 'default',
    groups,
    ...(unusable ? { unusable } : {}),
  };
}

/** What the capability probe finds on a host able to run every method, with `over` changed. */
export function capabilities(host: string, over: Partial<HostCapabilities> = {}): HostCapabilities {
  return { host, kernel: '6.1.0', criuVersion: '4.2.1', runcVersion: '1.1.5', softDirty: true, uffd: true, uffdNoncoop: true, ...over };
}
