import { ErrorCode, FerryError } from '../errors.ts';

/** Variables of one host as `ansible-inventory --list` prints them (group variables merged in). */
export type HostVars = Readonly<Record<string, unknown>>;

/** What Ferry keeps of `ansible-inventory --list`. */
export interface InventoryList {
  /** Every host, in the order ansible-inventory lists them. */
  hosts: string[];
  hostvars: Readonly<Record<string, HostVars>>;
  /** Each host's groups with their ancestors, sorted, without `all`: Ansible's `group_names` (which keeps `ungrouped`). */
  groupsOf: Readonly<Record<string, string[]>>;
  /** Every group name but `all`, sorted. */
  groups: string[];
}

/** Every host is in `all`; like Ansible's `group_names`, Ferry does not list it as a host's group. */
const IMPLICIT_GROUPS = new Set(['all']);

/**
 * Reads the JSON of `ansible-inventory --list`: `_meta.hostvars`, and one object per group with
 * `hosts` and `children`. Throws InventoryFailed when the text is not that shape.
 */
export function parseInventoryList(text: string, source: string): InventoryList {
  const bad = (what: string) => new FerryError(ErrorCode.InventoryFailed, `ansible-inventory --list for ${source} printed ${what}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw bad(`something that is not JSON (${(e as Error).message})`);
  }
  if (!isObject(data)) throw bad('JSON that is not an object');
  const meta = data._meta;
  const rawHostvars = isObject(meta) && isObject(meta.hostvars) ? meta.hostvars : {};
  const hostvars: Record<string, HostVars> = {};
  for (const [h, v] of Object.entries(rawHostvars)) hostvars[h] = isObject(v) ? v : {};

  const directHosts = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  for (const [group, body] of Object.entries(data)) {
    if (group === '_meta') continue;
    if (!isObject(body)) throw bad(`group '${group}' as ${JSON.stringify(body)}, not an object`);
    for (const h of stringList(body.hosts, () => bad(`a 'hosts' list of group '${group}' that is not a list of names`))) {
      directHosts.set(h, [...(directHosts.get(h) ?? []), group]);
    }
    for (const child of stringList(body.children, () => bad(`a 'children' list of group '${group}' that is not a list of names`))) {
      parents.set(child, [...(parents.get(child) ?? []), group]);
    }
  }

  const hosts = [...new Set([...directHosts.keys(), ...Object.keys(hostvars)])];
  const groupsOf: Record<string, string[]> = {};
  for (const h of hosts) {
    const seen = new Set<string>();
    const todo = [...(directHosts.get(h) ?? [])];
    while (todo.length) {
      const g = todo.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      todo.push(...(parents.get(g) ?? []));
    }
    groupsOf[h] = [...seen].filter((g) => !IMPLICIT_GROUPS.has(g)).sort();
    hostvars[h] ??= {};
  }
  const groups = Object.keys(data)
    .filter((g) => g !== '_meta' && !IMPLICIT_GROUPS.has(g))
    .sort();
  return { hosts, hostvars, groupsOf, groups };
}

/** An inline-vaulted value as ansible-inventory prints it: it does not decrypt `!vault` strings. */
export interface VaultedValue {
  __ansible_vault: string;
}

export function isVaulted(v: unknown): v is VaultedValue {
  return isObject(v) && typeof v.__ansible_vault === 'string';
}

/** The list with every vaulted value found in `plaintexts` (ciphertext → text) replaced by its text. */
export function withDecrypted(list: InventoryList, plaintexts: ReadonlyMap<string, string>): InventoryList {
  const hostvars: Record<string, HostVars> = {};
  for (const h of list.hosts) {
    hostvars[h] = Object.fromEntries(
      Object.entries(list.hostvars[h]!).map(([k, v]) => [k, isVaulted(v) && plaintexts.has(v.__ansible_vault) ? plaintexts.get(v.__ansible_vault) : v]),
    );
  }
  return { ...list, hostvars };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, bad: () => FerryError): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
  return v;
}
