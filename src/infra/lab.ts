import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, type FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import type { HostSpec, HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { labHostNames, renderInventory, renderKnownHosts, type TerraformHost } from './inventory.ts';
import { runLocal } from './run-local.ts';
import { Terraform } from './terraform.ts';

const MODULE_DIR = path.join(REPO_ROOT, 'terraform', 'local');
const LAB_SCRIPT = path.join(MODULE_DIR, 'lab.sh');

export interface LabParams {
  hosts: string[];
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
  private readonly tf: Terraform;

  constructor(
    private readonly config: FerryConfig,
    private readonly say: Say = () => {},
  ) {
    this.tf = new Terraform(MODULE_DIR, path.join(config.labDir, 'terraform'));
  }

  private get paramsFile() {
    return path.join(this.config.labDir, 'lab.json');
  }
  private get keyFile() {
    return path.join(this.config.labDir, 'id_ed25519');
  }

  private vars(p: LabParams): Record<string, string> {
    return {
      hosts: JSON.stringify(p.hosts),
      lab_dir: this.config.labDir,
      bridge: this.config.labBridge,
      subnet_prefix: this.config.labSubnetPrefix,
    };
  }

  async up(count = 2): Promise<HostsFile> {
    requireRoot();
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new FerryError(ErrorCode.UsageError, `--hosts must be between 1 and 50 (got ${count})`);
    }
    const params: LabParams = { hosts: labHostNames(count) };
    await mkdir(this.config.labDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.keyFile)) {
      this.say('creating the controller SSH key');
      await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-controller', '-f', this.keyFile]);
    }
    if (!existsSync(path.join(this.config.labDir, 'terraform', '.terraform'))) {
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
        await runLocal(LAB_SCRIPT, ['host-heal', name, `${addr}/24`, this.config.labBridge, this.config.labDir], { okCodes: [0, 1] });
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
        const deadline = Date.now() + 20_000;
        for (;;) {
          const h = new RemoteHost(spec, { defaultTimeoutS: 10 });
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
    return this.tf.plan(this.vars(params));
  }

  private async hostCheck(name: string): Promise<{ ok: boolean; problem: string }> {
    const r = await runLocal(LAB_SCRIPT, ['host-check', name, this.config.labDir], { okCodes: [0, 1] });
    return { ok: r.code === 0, problem: r.stderr.replace(/^\[lab\] /, '').trim() };
  }

  async down(): Promise<void> {
    requireRoot();
    const params = await this.readParams();
    if (params && (await this.tf.stateList()).length > 0) {
      this.say('terraform destroy');
      await this.tf.destroy(this.vars(params), { onLine: (l) => this.say(`  ${l}`) });
    }
    // Sweep what Terraform may not know about (a lost state, a host from an older lab).
    const netns = await runLocal('ip', ['netns', 'list'], { okCodes: [0, 1] });
    for (const line of netns.stdout.split('\n')) {
      const m = /^ferry-([a-z][a-z0-9-]*)/.exec(line);
      if (m) {
        this.say(`sweeping leftover host ${m[1]}`);
        await runLocal(LAB_SCRIPT, ['host-down', m[1]!, this.config.labDir]);
      }
    }
    await runLocal(LAB_SCRIPT, ['bridge-down', this.config.labBridge, `${this.config.labSubnetPrefix}.0/24`]);
    await rm(path.join(this.config.labDir, 'hosts'), { recursive: true, force: true });
    for (const f of [this.config.hostsFile, this.paramsFile, path.join(this.config.labDir, 'inventory.ini'), path.join(this.config.labDir, 'known_hosts')]) {
      await rm(f, { force: true });
    }
    this.say('lab down');
  }

  async status(): Promise<LabHostStatus[]> {
    const params = await this.readParams();
    if (!params) return [];
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
          const h = new RemoteHost(spec, { defaultTimeoutS: 10 });
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
