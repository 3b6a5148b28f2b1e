/**
 * Names in the environment's PKI: which host gets which subject alternative names, and where its
 * files live on the controller. Pure; pki.ts runs openssl with them.
 */
import net from 'node:net';
import path from 'node:path';
import { ErrorCode, FerryError } from '../errors.ts';
import type { HostSpec } from '../hosts/inventory.ts';
import { validateName } from '../util/names.ts';

/** One host's certificate subject. */
export interface PkiHost {
  /** The Ferry host name: the certificate's CN and first DNS name. */
  name: string;
  /** Every address a peer may dial it at (IP addresses, or DNS names). */
  addresses: string[];
}

/** The addresses a peer may reach a host at: its address and, across a tunnel, its peer address. */
export function pkiHostOf(h: Pick<HostSpec, 'name' | 'address' | 'peerAddress'>): PkiHost {
  return { name: h.name, addresses: [...new Set([h.address, ...(h.peerAddress ? [h.peerAddress] : [])])] };
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** `DNS:name` and one `IP:`/`DNS:` entry per address, in openssl's `subjectAltName` syntax. */
export function sanEntries(h: PkiHost): string[] {
  validateName('host', h.name);
  const out = [`DNS:${h.name}`];
  for (const a of h.addresses) {
    let entry: string;
    if (net.isIP(a)) entry = `IP:${a}`;
    else if (DNS_NAME.test(a)) entry = `DNS:${a.toLowerCase()}`;
    else throw new FerryError(ErrorCode.PkiFailed, `${h.name}'s address '${a}' is neither an IP address nor a DNS name: it cannot go in a certificate`);
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

/**
 * Whether a certificate's SAN (as node:crypto prints it: `DNS:a, IP Address:10.0.0.1`, IPv6
 * written out in capitals) holds exactly these entries.
 */
export function sameSans(printed: string, entries: readonly string[]): boolean {
  const norm = (kind: string, value: string) => (kind === 'IP' ? `IP:${canonicalIp(value)}` : `DNS:${value.toLowerCase()}`);
  const have = new Set(
    printed
      .split(/,\s*/)
      .filter(Boolean)
      .map((e) => {
        const m = /^(DNS|IP Address):(.*)$/.exec(e.trim());
        return m ? norm(m[1] === 'DNS' ? 'DNS' : 'IP', m[2]!) : `other:${e}`;
      }),
  );
  const want = new Set(entries.map((e) => norm(e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 1))));
  return have.size === want.size && [...want].every((e) => have.has(e));
}

/** IPv6 in one spelling (lower case, every group written out, no leading zeros); IPv4 as is. */
function canonicalIp(ip: string): string {
  if (!net.isIPv6(ip) || ip.includes('.')) return ip.toLowerCase();
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** The controller-side files of one host. */
export function pkiHostFiles(dir: string, host: string): { cert: string; key: string } {
  validateName('host', host);
  return { cert: path.join(dir, 'hosts', `${host}.crt`), key: path.join(dir, 'hosts', `${host}.key`) };
}

/** An environment name that can stand in the CA's subject (no `/`, `=`, `+` or `,`). */
export function validEnvironmentName(env: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(env)) {
    throw new FerryError(ErrorCode.PkiFailed, `environment name '${env}' cannot name a CA: use letters, digits, '.', '_' and '-'`);
  }
  return env;
}
