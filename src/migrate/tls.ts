/**
 * TLS for CRIU's page traffic (the page server on the target, the lazy-pages server on the
 * source). Pure: paths, flags and configuration text; the strategies send them over SSH.
 *
 * What CRIU 4.2 checks (criu/tls.c, read and tried here):
 * - Both ends load the CA file and their own certificate and key; the server demands a client
 *   certificate (`GNUTLS_CERT_REQUIRE`), and after the handshake EACH side verifies the other's
 *   certificate against the CA (`gnutls_certificate_verify_peers3`).
 * - Unless `--tls-no-cn-verify`, that check also matches the peer's certificate against
 *   `opts.addr`: for a client, the server's address it connects to (the right check); for a
 *   server, its OWN `--address` (a client certificate would have to name the server's address).
 *   So servers run with `--tls-no-cn-verify`: they accept any certificate of the environment's CA,
 *   and clients verify that the server is exactly the host they meant.
 * - A peer whose certificate fails makes the one-shot server exit: an intruder can end a page
 *   server (the dump then fails and the container runs on), never read or inject pages. The
 *   firewall (firewall.ts) is what keeps other addresses from even trying.
 */
import { validateName } from '../util/names.ts';

/** The PEM files CRIU's TLS uses on one host. */
export interface CriuTls {
  /** The environment's CA certificate; the peer's certificate must chain to it. */
  cacert: string;
  /** This host's certificate (CN and SAN: the host's name and addresses). */
  cert: string;
  /** This host's private key. */
  key: string;
}

/** Which end of a page connection a CRIU process is. */
export type TlsRole = 'client' | 'server';

/**
 * Where provision puts the PKI on every host. File names carry the host's name: the namespace
 * lab's hosts share one /etc, so each host's key needs a name of its own.
 */
export const HOST_PKI_DIR = '/etc/ferry/pki';

export function hostTls(host: string): CriuTls {
  validateName('host', host);
  return { cacert: `${HOST_PKI_DIR}/ca.crt`, cert: `${HOST_PKI_DIR}/${host}.crt`, key: `${HOST_PKI_DIR}/${host}.key` };
}

/** CRIU's TLS options, as `[name, value?]` pairs shared by the flags and the configuration file. */
function tlsOptions(tls: CriuTls, role: TlsRole): [string, string?][] {
  for (const p of [tls.cacert, tls.cert, tls.key]) {
    // A configuration file line is split at whitespace: a path with any would be misread.
    if (!p.startsWith('/') || /\s/.test(p)) throw new TypeError(`TLS file paths must be absolute, without whitespace: '${p}'`);
  }
  const opts: [string, string?][] = [['tls'], ['tls-cacert', tls.cacert], ['tls-cert', tls.cert], ['tls-key', tls.key]];
  // See the module comment: a server cannot match a client's certificate against its own address.
  if (role === 'server') opts.push(['tls-no-cn-verify']);
  return opts;
}

/** Flags for a `criu` command line (`criu page-server`, `criu lazy-pages`). */
export function criuTlsFlags(tls: CriuTls, role: TlsRole): string[] {
  return tlsOptions(tls, role).flatMap(([k, v]) => (v === undefined ? [`--${k}`] : [`--${k}`, v]));
}

/**
 * The same options as a CRIU configuration file, for the CRIU that runc drives: runc 1.1 has no
 * TLS flags and sends none over CRIU's RPC, but `criu swrk` reads the file named by
 * `CRIU_CONFIG_FILE` before it serves runc's request (see {@link criuConfigEnv}).
 */
export function criuTlsConfig(tls: CriuTls, role: TlsRole): string {
  return (
    `# CRIU TLS options (${role}) written by Ferry for one migration\n` +
    tlsOptions(tls, role)
      .map(([k, v]) => (v === undefined ? k : `${k} ${v}`))
      .join('\n') +
    '\n'
  );
}

/** Prefix for an argv whose CRIU must read `file`; `env` execs the command, so the process is still `runc …`. */
export function criuConfigEnv(file: string): string[] {
  if (!file.startsWith('/') || /[\s=]/.test(file)) throw new TypeError(`a CRIU configuration file must be an absolute path without whitespace or '=': '${file}'`);
  return ['env', `CRIU_CONFIG_FILE=${file}`];
}
