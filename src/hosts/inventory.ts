import { readFile } from 'node:fs/promises';
import { ErrorCode, FerryError } from '../errors.ts';
import { NAME_PATTERN } from '../util/names.ts';
import { closestMatches, orList } from '../util/suggest.ts';

/** The moments a team's playbook can run around a migration (see app/hooks.ts). */
export const HOOK_NAMES = ['pre_migrate', 'post_migrate', 'on_rollback'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** Playbooks to run around a migration involving the host, by hook: paths as the inventory gives them (absolute, or relative to the inventory's directory). */
export type HookPlaybooks = Partial<Record<HookName, string>>;

/** How Ferry reaches one host. Same shape for every environment (local lab, qemu lab, clouds). */
export interface HostSpec {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Controller's private key for this host. */
  privateKeyFile: string;
  /**
   * The host's public key, `ssh-ed25519 AAAA…`: connections to any other key are refused.
   * `''` when the inventory pins none; `unusable` then says why, and connecting is refused.
   */
  hostKey: string;
  /** Environment the host belongs to (local, qemu, aws, gcp). */
  environment: string;
  /** The site or cloud the host is in (a two-cloud lab's `cloud-a`). @defaultValue the environment */
  cloud?: string;
  /** The address other hosts reach this one at (across a tunnel): page servers and rsync use it. @defaultValue address */
  peerAddress?: string;
  /**
   * Where this host reaches the controller, when that differs per host (a two-cloud lab's
   * controller has an address on each cloud): the hold server listens there for its front.
   * @defaultValue the hosts file's controllerAddress
   */
  controllerAddress?: string;
  /** The host's Ansible groups, parents included (Ansible's `group_names`). @defaultValue none (a hosts.json has no groups) */
  groups?: string[];
  /** Hook playbooks named by the inventory (`ferry_pre_migrate`, `ferry_post_migrate`, `ferry_on_rollback`). @defaultValue none */
  hooks?: HookPlaybooks;
  /**
   * Why Ferry will not connect to this host, in words for the operator (no pinned host key, a
   * connection variable it cannot read). Listed, never connected to. Unset for a usable host.
   */
  unusable?: string;
}

export interface HostsFile {
  environment: string;
  controllerAddress?: string;
  knownHostsFile: string;
  inventoryFile: string;
  hosts: HostSpec[];
}

/**
 * A host's groups in one table cell: comma-separated as Ansible's `group_names` gives them (parents
 * included, `all` left out, `ungrouped` kept, sorted), `-` for none (a hosts.json host has none).
 */
export function groupsText(groups: readonly string[] | undefined): string {
  return groups?.length ? groups.join(',') : '-';
}

export async function loadHostsFile(file: string): Promise<HostsFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FerryError(ErrorCode.LabNotUp, `no hosts file at ${file}: run 'ferry lab up' first (or set FERRY_HOSTS_FILE)`);
  }
  return parseHostsFile(text, file);
}

/** Validates the hosts file, so a hand-edited one fails here with a precise message. */
export function parseHostsFile(text: string, source = 'hosts file'): HostsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FerryError(ErrorCode.ConfigInvalid, `${source} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (what: string) => new FerryError(ErrorCode.ConfigInvalid, `${source}: ${what}`);
  if (typeof data !== 'object' || data === null) throw bad('expected an object');
  const d = data as Record<string, unknown>;
  if (!Array.isArray(d.hosts)) throw bad("'hosts' must be a list");
  const hosts = d.hosts.map((h, i): HostSpec => {
    if (typeof h !== 'object' || h === null) throw bad(`hosts[${i}] must be an object`);
    const r = h as Record<string, unknown>;
    const str = (k: string) => {
      if (typeof r[k] !== 'string' || r[k] === '') throw bad(`hosts[${i}].${k} must be a non-empty string`);
      return r[k] as string;
    };
    const name = str('name');
    if (!NAME_PATTERN.test(name)) throw bad(`hosts[${i}].name '${name}' must match ${NAME_PATTERN}`);
    const port = r.port ?? 22;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw bad(`hosts[${i}].port must be 1-65535`);
    const hostKey = str('hostKey');
    if (!/^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+/.test(hostKey)) throw bad(`hosts[${i}].hostKey must be an OpenSSH public key`);
    return {
      name,
      address: str('address'),
      port,
      user: str('user'),
      privateKeyFile: str('privateKeyFile'),
      hostKey,
      environment: typeof r.environment === 'string' ? r.environment : String(d.environment ?? 'unknown'),
      ...(typeof r.cloud === 'string' && r.cloud ? { cloud: r.cloud } : {}),
      ...(typeof r.peerAddress === 'string' && r.peerAddress ? { peerAddress: r.peerAddress } : {}),
      ...(typeof r.controllerAddress === 'string' && r.controllerAddress ? { controllerAddress: r.controllerAddress } : {}),
    };
  });
  const names = new Set<string>();
  for (const h of hosts) {
    if (names.has(h.name)) throw bad(`host '${h.name}' appears twice`);
    names.add(h.name);
  }
  return {
    environment: String(d.environment ?? 'unknown'),
    controllerAddress: typeof d.controllerAddress === 'string' ? d.controllerAddress : undefined,
    knownHostsFile: String(d.knownHostsFile ?? ''),
    inventoryFile: String(d.inventoryFile ?? ''),
    hosts,
  };
}

/** The address other hosts reach `spec` at: its peer address across a tunnel, else its address. */
export function peerAddressOf(spec: Pick<HostSpec, 'address' | 'peerAddress'>): string {
  return spec.peerAddress ?? spec.address;
}

/** Where `spec` reaches the controller (a hold server for it listens there), or undefined when nowhere is known. */
export function controllerAddressFor(file: HostsFile, spec: HostSpec): string | undefined {
  return spec.controllerAddress ?? file.controllerAddress;
}

/**
 * The host named `name`. Anything else is refused with the closest names in the inventory
 * ("did you mean lab-1 or lab-2?"), or the known names when none is close.
 */
export function findHost(file: HostsFile, name: string): HostSpec {
  const h = file.hosts.find((x) => x.name === name);
  if (!h) {
    const names = file.hosts.map((x) => x.name);
    const near = closestMatches(name, names);
    const hint = near.length
      ? `: did you mean ${orList(near)}?`
      : names.length <= 10
        ? ` (known hosts: ${names.join(', ') || 'none'})`
        : ` (none of the ${names.length} hosts is named like it: 'ferry hosts' lists them)`;
    throw new FerryError(ErrorCode.UnknownHost, `unknown host '${name}'${hint}`, { details: { host: name, suggestions: near } });
  }
  return h;
}
