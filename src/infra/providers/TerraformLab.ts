import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FerryConfig } from '../../config.ts';
import type { HostSpec, HostsFile } from '../../hosts/inventory.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import { runLocal } from '../../util/run-local.ts';
import { renderInventory, renderKnownHosts, type TerraformHost } from '../inventory.ts';
import { parseModuleOutputs } from '../contract.ts';
import { Terraform } from '../terraform.ts';
import type { EnvironmentParams, EnvironmentProvider, HostHealth, Plan, Say } from './provider.ts';

/** What differs between lab providers; everything else is {@link TerraformLab}'s. */
export interface LabModule {
  name: string;
  /** The Terraform root module. */
  moduleDir: string;
  /** Its plumbing script (host-check, host-heal, host-down …), next to the module. */
  script: string;
  /** State directory under the lab directory (kept apart per provider). */
  stateDir: string;
  /** How long a new host may take to answer SSH. */
  sshWaitS: number;
  /** Module variables beyond hosts, lab_dir, bridge and subnet_prefix. */
  extraVars(config: FerryConfig): Record<string, string>;
  /** Extra arguments of `host-heal` after NAME ADDRESS_CIDR BRIDGE LAB_DIR. */
  healArgs(config: FerryConfig): string[];
  /** Arguments of `host-check`. */
  checkArgs(name: string, config: FerryConfig): string[];
  /** Runs before `terraform apply` (fetching a kernel, …). */
  prepare?(config: FerryConfig, say: Say): Promise<void>;
  /** Removes this provider's leftovers that no state knows of. */
  sweep(config: FerryConfig, say: Say): Promise<void>;
}

/**
 * A lab environment: Terraform's built-in terraform_data with local-exec plumbing, on the
 * controller's own bridge. Both lab providers are this class with a different {@link LabModule}.
 */
export class TerraformLab implements EnvironmentProvider {
  private readonly tf: Terraform;

  constructor(
    private readonly m: LabModule,
    private readonly config: FerryConfig,
    private readonly say: Say = () => {},
  ) {
    this.tf = new Terraform(m.moduleDir, path.join(config.labDir, m.stateDir));
  }

  get name(): string {
    return this.m.name;
  }

  private get keyFile(): string {
    return path.join(this.config.labDir, 'id_ed25519');
  }

  private vars(p: EnvironmentParams): Record<string, string> {
    return {
      hosts: JSON.stringify(p.hosts),
      lab_dir: this.config.labDir,
      bridge: this.config.labBridge,
      subnet_prefix: this.config.labSubnetPrefix,
      ...this.m.extraVars(this.config),
    };
  }

  async up(params: EnvironmentParams): Promise<HostsFile> {
    await this.m.prepare?.(this.config, this.say);
    await mkdir(this.config.labDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.keyFile)) {
      this.say('creating the controller SSH key');
      await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-controller', '-f', this.keyFile]);
    }
    if (!existsSync(path.join(this.config.labDir, this.m.stateDir, '.terraform'))) {
      this.say('terraform init (offline)');
      await this.tf.init();
    }
    // terraform_data cannot see drift (a killed sshd, a deleted namespace): look, and replace what broke.
    const replace = await this.heal();
    if (replace.length) this.say(`recovering: replacing ${replace.join(', ')}`);
    this.say(`terraform apply: ${params.hosts.join(', ')}`);
    await this.tf.apply(this.vars(params), { replace });
    const file = await this.hosts();
    this.say(`waiting for SSH on ${file.hosts.map((h) => h.name).join(', ')}`);
    await this.waitForSsh(file.hosts);
    this.say(`lab up: ${file.hosts.map((h) => `${h.name} (${h.address})`).join(', ')}`);
    return file;
  }

  async heal(): Promise<string[]> {
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
      // A dead sshd in an intact namespace (or VM) is healed in place, so the host's containers keep running.
      const addr = known.hosts?.value.find((h) => h.name === name)?.address;
      if (addr) {
        this.say(`healing ${name}`);
        await runLocal(this.m.script, ['host-heal', name, `${addr}/24`, this.config.labBridge, this.config.labDir, ...this.m.healArgs(this.config)], { okCodes: [0, 1] });
        if ((await this.hostCheck(name)).ok) continue;
      }
      broken.push(res);
    }
    return broken;
  }

  /** Turns Terraform outputs (held to terraform/CONTRACT.md) into hosts.json, known_hosts and the Ansible inventory. */
  async hosts(): Promise<HostsFile> {
    const out = parseModuleOutputs(await this.tf.output<unknown>(), `terraform/${this.m.name}`);
    const hosts: HostSpec[] = [];
    for (const h of out.hosts) {
      hosts.push({
        name: h.name,
        address: h.address,
        port: h.port,
        user: h.user,
        privateKeyFile: this.keyFile,
        hostKey: (await readFile(h.hostKeyFile, 'utf8')).trim(),
        environment: out.environment,
        cloud: h.cloud,
        peerAddress: h.peerAddress,
      });
    }
    const knownHostsFile = path.join(this.config.labDir, 'known_hosts');
    const inventoryFile = path.join(this.config.labDir, 'inventory.ini');
    const file: HostsFile = { environment: out.environment, controllerAddress: out.controllerAddress ?? undefined, knownHostsFile, inventoryFile, hosts };
    await writeFile(knownHostsFile, renderKnownHosts(hosts));
    await writeFile(inventoryFile, renderInventory(hosts, knownHostsFile));
    await writeFile(this.config.hostsFile, JSON.stringify(file, null, 2));
    return file;
  }

  private async waitForSsh(hosts: HostSpec[]): Promise<void> {
    await Promise.all(
      hosts.map(async (spec) => {
        const deadline = Date.now() + this.m.sshWaitS * 1000;
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

  plan(params: EnvironmentParams): Promise<Plan> {
    return this.tf.plan(this.vars(params));
  }

  private async hostCheck(name: string): Promise<{ ok: boolean; problem: string }> {
    const r = await runLocal(this.m.script, this.m.checkArgs(name, this.config), { okCodes: [0, 1] });
    return { ok: r.code === 0, problem: r.stderr.replace(/^\[lab\] /, '').trim() };
  }

  async down(params: EnvironmentParams | undefined): Promise<void> {
    if (params && (await this.tf.stateList()).length > 0) {
      this.say('terraform destroy');
      await this.tf.destroy(this.vars(params));
    }
    await this.sweep();
  }

  sweep(): Promise<void> {
    return this.m.sweep(this.config, this.say);
  }

  async status(params: EnvironmentParams): Promise<HostHealth[]> {
    let file: HostsFile | undefined;
    try {
      file = JSON.parse(await readFile(this.config.hostsFile, 'utf8')) as HostsFile;
    } catch {
      file = undefined;
    }
    return Promise.all(
      params.hosts.map(async (name): Promise<HostHealth> => {
        const spec = file?.hosts.find((h) => h.name === name);
        const check = await this.hostCheck(name);
        let ssh = false;
        if (spec && check.ok) {
          const h = new RemoteHost(spec, { defaultTimeoutS: 30 });
          ssh = await h.run(['true']).then(
            () => true,
            () => false,
          );
          h.dispose();
        }
        return { name, address: spec?.address ?? '?', whole: check.ok, ssh, problem: check.ok ? undefined : check.problem };
      }),
    );
  }
}
