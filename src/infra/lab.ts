import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, type FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import type { HostSpec, HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { labHostNames, renderInventory, renderKnownHosts, type TerraformHost } from './inventory.ts';
import { runLocal } from '../util/run-local.ts';
import { Terraform } from './terraform.ts';

export type LabProvider = 'local' | 'qemu';

/** Each provider: a Terraform module with the same outputs, and its plumbing script. */
const PROVIDERS: Record<LabProvider, { dir: string; script: string; stateDir: string; sshWaitS: number }> = {
  local: { dir: path.join(REPO_ROOT, 'terraform', 'local'), script: 'lab.sh', stateDir: 'terraform', sshWaitS: 20 },
  // VMs under software emulation: slower to boot and to answer.
  qemu: { dir: path.join(REPO_ROOT, 'terraform', 'qemu'), script: 'qemu-lab.sh', stateDir: 'terraform-qemu', sshWaitS: 60 },
};

export function parseProvider(s: string): LabProvider {
  if (s === 'local' || s === 'qemu') return s;
  throw new FerryError(ErrorCode.UsageError, `unknown lab provider '${s}': choose local (network namespaces, the default) or qemu (VMs with a stock kernel, for pre-copy)`);
}

const QEMU_CACHE = () => path.join(process.env.FERRY_CACHE_DIR ?? '/var/cache/ferry', 'qemu');

export interface LabParams {
  hosts: string[];
  provider?: LabProvider;
}

export interface LabHostStatus {
  name: string;
  address: string;
  whole: boolean;
  ssh: boolean;
  problem?: string;
}

type Say = (msg: string) => void;

/** The namespace lab (terraform/local): up, down, status. */
export class Lab {
  private tf: Terraform;
  private provider: LabProvider = 'local';

  constructor(
    private readonly config: FerryConfig,
    private readonly say: Say = () => {},
  ) {
    this.tf = this.terraformFor('local');
  }

  private terraformFor(p: LabProvider): Terraform {
    return new Terraform(PROVIDERS[p].dir, path.join(this.config.labDir, PROVIDERS[p].stateDir));
  }

  private use(p: LabProvider): void {
    this.provider = p;
    this.tf = this.terraformFor(p);
  }

  private get script(): string {
    return path.join(PROVIDERS[this.provider].dir, PROVIDERS[this.provider].script);
  }

  private get paramsFile() {
    return path.join(this.config.labDir, 'lab.json');
  }
  private get keyFile() {
    return path.join(this.config.labDir, 'id_ed25519');
  }

  private vars(p: LabParams): Record<string, string> {
    const common = {
      hosts: JSON.stringify(p.hosts),
      lab_dir: this.config.labDir,
      bridge: this.config.labBridge,
      subnet_prefix: this.config.labSubnetPrefix,
    };
    if (this.provider !== 'qemu') return common;
    return { ...common, memory_mb: process.env.FERRY_QEMU_MEMORY_MB ?? '1536', boot_timeout_s: '120', cache_dir: QEMU_CACHE() };
  }

  async up(count = 2, provider: LabProvider = 'local'): Promise<HostsFile> {
    requireRoot();
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new FerryError(ErrorCode.UsageError, `--hosts must be between 1 and 50 (got ${count})`);
    }
    const previous = await this.readParams();
    if (previous && (previous.provider ?? 'local') !== provider) {
      this.say(`the lab is up with provider ${previous.provider ?? 'local'}: taking it down first`);
      await this.down();
    }
    this.use(provider);
    const params: LabParams = { hosts: labHostNames(count), provider };
    if (provider === 'qemu') {
      this.say('preparing the VM kernel and initramfs (scripts/qemu-setup.sh)');
      await runLocal('bash', [path.join(REPO_ROOT, 'scripts', 'qemu-setup.sh')], { onLine: (l) => this.say(`  ${l}`) });
    }
    await mkdir(this.config.labDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.keyFile)) {
      this.say('creating the controller SSH key');
      await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-controller', '-f', this.keyFile]);
    }
    if (!existsSync(path.join(this.config.labDir, PROVIDERS[provider].stateDir, '.terraform'))) {
      this.say('terraform init (offline)');
      await this.tf.init();
    }
    // terraform_data cannot see drift (a killed sshd, a deleted namespace): look, and replace what broke.
    const replace = await this.brokenResources();
    if (replace.length) this.say(`recovering: replacing ${replace.join(', ')}`);
    this.say(`terraform apply: ${params.hosts.join(', ')}`);
    await this.tf.apply(this.vars(params), { replace, onLine: (l) => this.say(`  ${l}`) });
    await writeFile(this.paramsFile, JSON.stringify(params, null, 2));
    const hostsFile = await this.render();
    await this.waitForSsh(hostsFile.hosts);
    this.say(`lab up: ${hostsFile.hosts.map((h) => `${h.name} (${h.address})`).join(', ')}`);
    return hostsFile;
  }

  private async brokenResources(): Promise<string[]> {
    const inState = await this.tf.stateList();
    if (inState.length === 0) return [];
    if (inState.includes('terraform_data.bridge')) {
      const bridge = await runLocal('ip', ['link', 'show', this.config.labBridge], { okCodes: [0, 1] });
      if (bridge.code !== 0) return ['terraform_data.bridge'];
    }
    const known = await this.tf.output<{ hosts?: { value: TerraformHost[] } }>().catch(() => ({}) as { hosts?: { value: TerraformHost[] } });
    const broken: string[] = [];
    for (const res of inState) {
      const m = /^terraform_data\.host\["([a-z0-9-]+)"\]$/.exec(res);
      if (!m) continue;
      const name = m[1]!;
      if ((await this.hostCheck(name)).ok) continue;
      // A dead sshd in an intact namespace is healed in place, so the host's containers keep running.
      const addr = known.hosts?.value.find((h) => h.name === name)?.address;
      if (addr) {
        this.say(`healing ${name}`);
        const extra = this.provider === 'qemu' ? [process.env.FERRY_QEMU_MEMORY_MB ?? '1536', '120', QEMU_CACHE()] : [];
        await runLocal(this.script, ['host-heal', name, `${addr}/24`, this.config.labBridge, this.config.labDir, ...extra], { okCodes: [0, 1] });
        if ((await this.hostCheck(name)).ok) continue;
      }
      broken.push(res);
    }
    return broken;
  }

  /** Turns Terraform outputs into hosts.json, known_hosts and the Ansible inventory. */
  private async render(): Promise<HostsFile> {
    const out = await this.tf.output<{ hosts: { value: TerraformHost[] }; environment: { value: string }; controller_address: { value: string } }>();
    const hosts: HostSpec[] = [];
    for (const h of out.hosts.value) {
      hosts.push({
        name: h.name,
        address: h.address,
        port: h.port,
        user: h.user,
        privateKeyFile: this.keyFile,
        hostKey: (await readFile(h.host_key_file, 'utf8')).trim(),
        environment: out.environment.value,
      });
    }
    const knownHostsFile = path.join(this.config.labDir, 'known_hosts');
    const inventoryFile = path.join(this.config.labDir, 'inventory.ini');
    const file: HostsFile = {
      environment: out.environment.value,
      controllerAddress: out.controller_address.value,
      knownHostsFile,
      inventoryFile,
      hosts,
    };
    await writeFile(knownHostsFile, renderKnownHosts(hosts));
    await writeFile(inventoryFile, renderInventory(hosts, knownHostsFile));
    await writeFile(this.config.hostsFile, JSON.stringify(file, null, 2));
    return file;
  }

  private async waitForSsh(hosts: HostSpec[]): Promise<void> {
    await Promise.all(
      hosts.map(async (spec) => {
        const deadline = Date.now() + PROVIDERS[this.provider].sshWaitS * 1000;
        for (;;) {
          const h = new RemoteHost(spec, { defaultTimeoutS: 30 });
          try {
            await h.run(['true']);
            return;
          } catch (e) {
            if (Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 200));
          } finally {
            h.dispose();
          }
        }
      }),
    );
  }

  /** `terraform plan` of the lab as it was brought up: what `up` would change (dry runs). */
  async plan(): Promise<{ changes: boolean; text: string }> {
    const params = await this.readParams();
    if (!params) return { changes: true, text: 'the lab is down: `ferry lab up` would create it' };
    this.use(params.provider ?? 'local');
    return this.tf.plan(this.vars(params));
  }

  private async hostCheck(name: string): Promise<{ ok: boolean; problem: string }> {
    const args = this.provider === 'qemu' ? ['host-check', name, this.config.labDir, this.config.labBridge] : ['host-check', name, this.config.labDir];
    const r = await runLocal(this.script, args, { okCodes: [0, 1] });
    return { ok: r.code === 0, problem: r.stderr.replace(/^\[lab\] /, '').trim() };
  }

  async down(): Promise<void> {
    requireRoot();
    const params = await this.readParams();
    if (params) this.use(params.provider ?? 'local');
    if (params && (await this.tf.stateList()).length > 0) {
      this.say('terraform destroy');
      await this.tf.destroy(this.vars(params), { onLine: (l) => this.say(`  ${l}`) });
    }
    // Sweep what Terraform may not know about (a lost state, a host from an older lab), for both providers.
    const qemuScript = path.join(PROVIDERS.qemu.dir, PROVIDERS.qemu.script);
    await runLocal(qemuScript, ['sweep', this.config.labDir, this.config.labBridge], { okCodes: [0, 1] });
    const netns = await runLocal('ip', ['netns', 'list'], { okCodes: [0, 1] });
    for (const line of netns.stdout.split('\n')) {
      const m = /^ferry-([a-z][a-z0-9-]*)/.exec(line);
      if (m) {
        this.say(`sweeping leftover host ${m[1]}`);
        await runLocal(path.join(PROVIDERS.local.dir, PROVIDERS.local.script), ['host-down', m[1]!, this.config.labDir]);
      }
    }
    await runLocal(path.join(PROVIDERS.local.dir, PROVIDERS.local.script), ['bridge-down', this.config.labBridge, `${this.config.labSubnetPrefix}.0/24`]);
    await rm(path.join(this.config.labDir, 'hosts'), { recursive: true, force: true });
    for (const f of [this.config.hostsFile, this.paramsFile, path.join(this.config.labDir, 'inventory.ini'), path.join(this.config.labDir, 'known_hosts')]) {
      await rm(f, { force: true });
    }
    this.say('lab down');
  }

  async status(): Promise<LabHostStatus[]> {
    const params = await this.readParams();
    if (!params) return [];
    this.use(params.provider ?? 'local');
    let file: HostsFile | undefined;
    try {
      file = JSON.parse(await readFile(this.config.hostsFile, 'utf8')) as HostsFile;
    } catch {
      file = undefined;
    }
    return Promise.all(
      params.hosts.map(async (name): Promise<LabHostStatus> => {
        const spec = file?.hosts.find((h) => h.name === name);
        const check = await this.hostCheck(name);
        let ssh = false;
        if (spec && check.ok) {
          const h = new RemoteHost(spec, { defaultTimeoutS: 30 });
          ssh = await h.run(['true']).then(() => true, () => false);
          h.dispose();
        }
        return {
          name,
          address: spec?.address ?? '?',
          whole: check.ok,
          ssh,
          problem: check.ok ? undefined : check.problem,
        };
      }),
    );
  }

  private async readParams(): Promise<LabParams | undefined> {
    try {
      return JSON.parse(await readFile(this.paramsFile, 'utf8')) as LabParams;
    } catch {
      return undefined;
    }
  }
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new FerryError(ErrorCode.UsageError, 'the namespace lab needs root (network namespaces, bridges, mounts): run as root');
  }
}
