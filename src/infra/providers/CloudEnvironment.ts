import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import type { HostsFile } from '../../hosts/inventory.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import { runLocal } from '../../util/run-local.ts';
import { parseModuleOutputs } from '../contract.ts';
import { writeHostsFiles } from './hosts-files.ts';
import { Terraform } from '../terraform.ts';
import type { EnvironmentParams, EnvironmentProvider, EnvironmentStatus, HostHealth, Plan, Say } from './provider.ts';

/** The clouds Ferry has a module for. Credentials come from each provider's own environment variables, never from Ferry. */
export const CLOUD_PROVIDERS = ['aws', 'gcp', 'two-clouds'] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

/** What `ferry env create` recorded, in the environment's directory (env.json). */
export interface EnvironmentRecord {
  name: string;
  provider: CloudProvider;
  /** Host names per site (two-clouds: both). */
  hosts: string[];
  /** The user's `--var k=v` (values as given; JSON-looking ones are parsed). Never credentials. */
  vars: Record<string, unknown>;
  createdAt: string;
}

/** A WireGuard key pair (X25519, base64 raw keys as `wg genkey` / `wg pubkey` print them), made on the controller. */
export function wireguardKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  // The raw 32-byte keys are the last 32 bytes of the PKCS#8 and SPKI encodings.
  const priv = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey: priv.toString('base64'), publicKey: pub.toString('base64') };
}

/** `k=v` from the command line: JSON-looking values (lists, numbers, booleans) as JSON, the rest as text. */
export function parseVar(kv: string): [string, unknown] {
  const i = kv.indexOf('=');
  const key = i > 0 ? kv.slice(0, i) : '';
  if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new FerryError(ErrorCode.UsageError, `--var wants name=value with a Terraform variable name (got '${kv}')`);
  const raw = kv.slice(i + 1);
  if (/^(\[|\{|true$|false$|null$|-?\d+(\.\d+)?$)/.test(raw)) {
    try {
      return [key, JSON.parse(raw)];
    } catch {
      // not JSON after all: text
    }
  }
  return [key, raw];
}

/** Variables a user may not set: Ferry makes them (keys) or they would defeat its checks. */
const RESERVED = new Set(['ssh_public_key', 'host_key_dir', 'wireguard_private_key', 'aws_wireguard_private_key', 'gcp_wireguard_private_key', 'aws_wireguard_public_key', 'gcp_wireguard_public_key']);

/**
 * A cloud environment: one of Ferry's Terraform modules (terraform/aws, terraform/gcp,
 * terraform/two-clouds) with its own state, controller key, host keys and WireGuard keys in its
 * own directory. Host keys are made before apply and installed by the module, so no key is ever
 * trusted on first use; secrets reach Terraform in a 0600 var-file, never on a command line.
 */
export class CloudEnvironment implements EnvironmentProvider {
  private readonly tf: Terraform;

  constructor(
    private readonly dir: string,
    private readonly rec: EnvironmentRecord,
    private readonly say: Say = () => {},
  ) {
    this.tf = new Terraform(path.join(REPO_ROOT, 'terraform', rec.provider), path.join(dir, 'terraform'));
  }

  get name(): string {
    return this.rec.name;
  }

  private get keyFile(): string {
    return path.join(this.dir, 'id_ed25519');
  }

  private get hostsFile(): string {
    return path.join(this.dir, 'hosts.json');
  }

  /** Every key the module needs, made once and kept. */
  private async keys(): Promise<{ sshPublicKey: string; wireguard: { aws: { privateKey: string; publicKey: string }; gcp: { privateKey: string; publicKey: string } } }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.keyFile)) await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `ferry-${this.rec.name}`, '-f', this.keyFile]);
    for (const h of this.rec.hosts) {
      const d = path.join(this.dir, 'host-keys', h);
      if (existsSync(path.join(d, 'ssh_host_ed25519_key'))) continue;
      await mkdir(d, { recursive: true, mode: 0o700 });
      await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h, '-f', path.join(d, 'ssh_host_ed25519_key')]);
    }
    const wgFile = path.join(this.dir, 'wireguard.json');
    if (!existsSync(wgFile)) {
      await writeFile(wgFile, JSON.stringify({ aws: wireguardKeyPair(), gcp: wireguardKeyPair() }), { mode: 0o600 });
    }
    return { sshPublicKey: (await readFile(`${this.keyFile}.pub`, 'utf8')).trim(), wireguard: JSON.parse(await readFile(wgFile, 'utf8')) };
  }

  /** The module's variables, in a 0600 var-file: they hold private keys. */
  private async varFile(): Promise<{ varFile: string }> {
    const k = await this.keys();
    const hostKeyDir = path.join(this.dir, 'host-keys');
    const byProvider: Record<CloudProvider, Record<string, unknown>> = {
      aws: { environment: this.rec.name, hosts: this.rec.hosts },
      gcp: { environment: this.rec.name, hosts: this.rec.hosts },
      'two-clouds': {
        environment: this.rec.name,
        aws_hosts: this.rec.hosts.filter((h) => h.startsWith('aws-')),
        gcp_hosts: this.rec.hosts.filter((h) => h.startsWith('gcp-')),
        aws_wireguard_private_key: k.wireguard.aws.privateKey,
        aws_wireguard_public_key: k.wireguard.aws.publicKey,
        gcp_wireguard_private_key: k.wireguard.gcp.privateKey,
        gcp_wireguard_public_key: k.wireguard.gcp.publicKey,
      },
    };
    const vars = { ...byProvider[this.rec.provider], ssh_public_key: k.sshPublicKey, host_key_dir: hostKeyDir, ...this.rec.vars };
    const file = path.join(this.dir, 'terraform.tfvars.json');
    await writeFile(file, JSON.stringify(vars, null, 2), { mode: 0o600 });
    await chmod(file, 0o600);
    return { varFile: file };
  }

  private async init(): Promise<void> {
    if (existsSync(path.join(this.dir, 'terraform', '.terraform'))) return;
    this.say(`terraform init (${this.rec.provider})`);
    await this.tf.init();
  }

  async up(_params: EnvironmentParams): Promise<HostsFile> {
    await this.init();
    this.say(`terraform apply: ${this.rec.hosts.join(', ')} (${this.rec.provider})`);
    await this.tf.apply(await this.varFile(), { onLine: (l) => this.say(`  ${l}`) });
    return this.hosts();
  }

  async plan(_params: EnvironmentParams): Promise<Plan> {
    await this.init();
    return this.tf.plan(await this.varFile());
  }

  async down(): Promise<void> {
    if ((await this.tf.stateList()).length === 0) return;
    this.say(`terraform destroy (${this.rec.provider})`);
    await this.tf.destroy(await this.varFile(), { onLine: (l) => this.say(`  ${l}`) });
  }

  async heal(): Promise<string[]> {
    // A cloud's drift is Terraform's to see (refresh on plan/apply): nothing to repair in place.
    return [];
  }

  async sweep(): Promise<void> {}

  /** Outputs (held to terraform/CONTRACT.md) rendered as hosts.json, known_hosts and an inventory in the environment's directory. */
  async hosts(): Promise<HostsFile> {
    const out = parseModuleOutputs(await this.tf.output<unknown>(), `terraform/${this.rec.provider}`);
    return writeHostsFiles(out, { keyFile: this.keyFile, dir: this.dir, hostsFile: this.hostsFile });
  }

  async status(): Promise<EnvironmentStatus> {
    // The WAN between two clouds is the providers' (and the tunnel's): its health is the hosts' SSH.
    return { topology: this.rec.provider === 'two-clouds' ? 'two-clouds' : 'flat', hosts: await this.hostHealth() };
  }

  private async hostHealth(): Promise<HostHealth[]> {
    let file: HostsFile;
    try {
      file = JSON.parse(await readFile(this.hostsFile, 'utf8')) as HostsFile;
    } catch {
      return this.rec.hosts.map((name) => ({ name, address: '?', whole: false, ssh: false, problem: 'not created (or never applied)' }));
    }
    return Promise.all(
      file.hosts.map(async (spec): Promise<HostHealth> => {
        const h = new RemoteHost(spec, { defaultTimeoutS: 30, reconnectS: 5 });
        try {
          const ok = await h.run(['true']).then(
            () => true,
            () => false,
          );
          return { name: spec.name, address: spec.address, whole: true, ssh: ok, problem: ok ? undefined : 'SSH does not answer' };
        } finally {
          h.dispose();
        }
      }),
    );
  }

  static reserved(key: string): boolean {
    return RESERVED.has(key);
  }
}
