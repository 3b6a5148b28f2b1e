import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { runLocal } from '../util/run-local.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { pkiHostFiles, pkiHostOf, sanEntries, sameSans, validEnvironmentName, type PkiHost } from './pki-names.ts';

export { pkiHostFiles, sanEntries, type PkiHost } from './pki-names.ts';

/**
 * The environment's PKI for CRIU's TLS, made on the controller with openssl (node:crypto reads
 * X.509 but cannot sign it). Layout of `dir` (0700; Ansible copies from it):
 *
 *   ca.crt, ca.key               the environment's CA (ECDSA P-256); the key never leaves this directory
 *   hosts/<name>.crt, .key       one per host: CN the host's name, SAN its name and addresses,
 *                                serverAuth + clientAuth (a host is a page server and a client)
 *
 * Idempotent: a certificate is (re)issued only when missing, not signed by the current CA, naming
 * other addresses than the host has now, not matching its key, or within {@link RENEW_DAYS} of
 * expiry. A lock file serialises concurrent callers (two migrations provisioning at once).
 */
export interface PkiOptions {
  /** Names the CA (`Ferry CA <environment>`). */
  environment: string;
  /** Start over with a new CA (evicts every certificate of the old one). @defaultValue false */
  rotate?: boolean;
  /** @defaultValue now */
  now?: Date;
}

export interface PkiReport {
  dir: string;
  caCreated: boolean;
  /** Hosts whose certificate was issued now, and why. */
  issued: { host: string; why: string }[];
  /** Hosts whose certificate was kept. */
  kept: string[];
}

export const CA_DAYS = 3650;
export const HOST_DAYS = 397;
/** Certificates this close to expiry are renewed. @defaultValue 30 days */
export const RENEW_DAYS = 30;

const DAY_MS = 24 * 3600 * 1000;

export async function ensurePki(dir: string, hosts: readonly PkiHost[], opts: PkiOptions): Promise<PkiReport> {
  validEnvironmentName(opts.environment);
  const wanted = hosts.map((h) => ({ host: h, sans: sanEntries(h) })); // validates every name and address first
  const now = opts.now ?? new Date();
  await mkdir(path.join(dir, 'hosts'), { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return withLock(path.join(dir, '.lock'), async () => {
    const caCrt = path.join(dir, 'ca.crt');
    const caKey = path.join(dir, 'ca.key');
    const tmp = await mkdtemp(path.join(dir, '.tmp-'));
    try {
      let caCreated = false;
      const caWhy = opts.rotate ? 'rotation asked for' : await caProblem(caCrt, caKey, now);
      if (caWhy) {
        await openssl(['req', '-x509', '-new', ...NEW_EC_KEY, '-keyout', path.join(tmp, 'ca.key'), '-out', path.join(tmp, 'ca.crt'), '-days', String(CA_DAYS), '-subj', `/CN=Ferry CA ${opts.environment}`, '-set_serial', serial(), '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], 'create the CA');
        await install(path.join(tmp, 'ca.key'), caKey, 0o600);
        await install(path.join(tmp, 'ca.crt'), caCrt, 0o644);
        caCreated = true;
      }
      const ca = new X509Certificate(await readFile(caCrt));
      const report: PkiReport = { dir, caCreated, issued: [], kept: [] };
      for (const { host, sans } of wanted) {
        const files = pkiHostFiles(dir, host.name);
        const why = caCreated ? 'new CA' : await hostProblem(files, ca, sans, now);
        if (!why) {
          report.kept.push(host.name);
          continue;
        }
        const key = path.join(tmp, `${host.name}.key`);
        const csr = path.join(tmp, `${host.name}.csr`);
        const crt = path.join(tmp, `${host.name}.crt`);
        // Every extension is put in the request, which is ours, and copied into the certificate.
        await openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${host.name}`, '-addext', `subjectAltName=${sans.join(',')}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth,clientAuth'], `make a key for ${host.name}`);
        await openssl(['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', serial(), '-days', String(HOST_DAYS), '-copy_extensions', 'copyall', '-out', crt], `sign ${host.name}'s certificate`);
        await install(key, files.key, 0o600);
        await install(crt, files.cert, 0o644);
        report.issued.push({ host: host.name, why });
      }
      return report;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

/**
 * The PKI for a hosts file (or inventory): one certificate per usable host, the CA named after the
 * file's environment. What `ferry pki` and `ferry provision` run, and what any provisioning should
 * run first.
 */
export function ensureHostsPki(pkiDir: string, file: Pick<HostsFile, 'environment' | 'hosts'>, opts: { rotate?: boolean } = {}): Promise<PkiReport> {
  const hosts = file.hosts.filter((h) => !h.unusable).map(pkiHostOf);
  return ensurePki(pkiDir, hosts, { environment: file.environment, rotate: opts.rotate });
}

/** The report in lines, for a terminal or a log. */
export function describePki(r: PkiReport): string[] {
  return [`CA in ${r.dir}: ${r.caCreated ? 'created' : 'kept'}`, ...r.issued.map((i) => `${i.host}: certificate issued (${i.why})`), ...r.kept.map((h) => `${h}: certificate kept`)];
}

const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A random positive 128-bit serial (RFC 5280: unique per CA, at most 20 octets). */
function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return `0x${b.toString('hex')}`;
}

async function openssl(args: string[], what: string): Promise<void> {
  try {
    await runLocal('openssl', args, { timeoutMs: 60_000 });
  } catch (e) {
    throw new FerryError(ErrorCode.PkiFailed, `could not ${what} with openssl: ${errorMessage(e)}`, { original: e });
  }
}

/** rename() within one directory tree: a reader never sees half a file. */
async function install(from: string, to: string, mode: number): Promise<void> {
  await chmod(from, mode);
  await rename(from, to);
}

async function caProblem(crtFile: string, keyFile: string, now: Date): Promise<string | null> {
  const pair = await readPair(crtFile, keyFile);
  if (!pair) return 'no CA yet';
  if (!pair.cert.ca) return 'ca.crt is not a CA certificate';
  if (!pair.cert.checkPrivateKey(pair.key)) return 'ca.key does not match ca.crt';
  if (Date.parse(pair.cert.validTo) - now.getTime() < RENEW_DAYS * DAY_MS) return 'the CA expires soon';
  return null;
}

async function hostProblem(files: { cert: string; key: string }, ca: X509Certificate, sans: string[], now: Date): Promise<string | null> {
  const pair = await readPair(files.cert, files.key);
  if (!pair) return 'no certificate yet';
  if (!pair.cert.verify(ca.publicKey) || !pair.cert.checkIssued(ca)) return 'signed by another CA';
  if (!pair.cert.checkPrivateKey(pair.key)) return 'key does not match';
  if (!sameSans(pair.cert.subjectAltName ?? '', sans)) return `addresses changed (was ${pair.cert.subjectAltName ?? 'none'})`;
  if (Date.parse(pair.cert.validTo) - now.getTime() < RENEW_DAYS * DAY_MS) return 'expires soon';
  return null;
}

async function readPair(crtFile: string, keyFile: string) {
  try {
    return { cert: new X509Certificate(await readFile(crtFile)), key: createPrivateKey(await readFile(keyFile)) };
  } catch {
    return null; // missing or unreadable: made anew
  }
}

/** An exclusive lock file; one left by a process that died is broken after `staleMs`. */
async function withLock<T>(file: string, fn: () => Promise<T>, staleMs = 120_000, waitMs = 180_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const h = await open(file, 'wx', 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FerryError(ErrorCode.PkiFailed, `cannot lock ${file}: ${errorMessage(e)}`);
      const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > staleMs) await rm(file, { force: true });
      else if (Date.now() > deadline) throw new FerryError(ErrorCode.PkiFailed, `${file} stayed locked for ${waitMs / 1000} s: another ferry is making certificates (remove the file if none is)`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
