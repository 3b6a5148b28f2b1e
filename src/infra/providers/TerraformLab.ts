import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, type FerryConfig } from '../../config.ts';
import type { HostSpec, HostsFile } from '../../hosts/inventory.ts';
import { RemoteHost } from '../../hosts/RemoteHost.ts';
import { runLocal } from '../../util/run-local.ts';
import type { TerraformHost } from '../inventory.ts';
import { parseModuleOutputs } from '../contract.ts';
import { writeHostsFiles } from './hosts-files.ts';
import { Terraform } from '../terraform.ts';
import type { EnvironmentParams, EnvironmentProvider, EnvironmentStatus, GatewayHealth, HostHealth, Plan, Say, WanHealth } from './provider.ts';
import { allLabNetworks, describeWan, gatewayNames, labLayout, routeOf, siteOf, type LabLayout } from './topology.ts';

/** The two-cloud WAN's plumbing (gateways, WireGuard, relay), shared by both lab providers. */
export const WAN_SCRIPT = path.join(REPO_ROOT, 'terraform', 'lib', 'wan.sh');

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
  /** Extra arguments of `host-heal` after NAME ADDRESS_CIDR BRIDGE LAB_DIR (a two-cloud host's route follows them). */
  healArgs(config: FerryConfig): string[];
  /** Arguments of `host-check` for a host on `bridge`. */
  checkArgs(name: string, config: FerryConfig, bridge: string): string[];
  /** Runs before `terraform apply` (fetching a kernel, …). */
  prepare?(config: FerryConfig, say: Say): Promise<void>;
  /** Removes this provider's leftovers that no state knows of, on any of `bridges`. */
  sweep(config: FerryConfig, say: Say, bridges: string[]): Promise<void>;
}

/**
 * A lab environment: Terraform's built-in terraform_data with local-exec plumbing, on the
 * controller's own bridge (or two, for two clouds: see topology.ts). Both lab providers are this
 * class with a different {@link LabModule}.
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

  private layout(p: EnvironmentParams): LabLayout {
    return labLayout(p, this.m.name, this.config);
  }

  private vars(p: EnvironmentParams): Record<string, string> {
    const layout = this.layout(p);
    const vars: Record<string, string> = {
      hosts: JSON.stringify(p.hosts),
      lab_dir: this.config.labDir,
      bridge: this.config.labBridge,
      subnet_prefix: this.config.labSubnetPrefix,
      ...this.m.extraVars(this.config),
    };
    if (layout.topology === 'two-clouds') {
      vars.clouds = JSON.stringify(layout.sites.map((s) => ({ name: s.cloud, bridge: s.bridge, subnet_prefix: s.subnetPrefix, hosts: s.hosts })));
      const link = layout.link!;
      vars.link = JSON.stringify({ rtt_ms: link.rttMs, mbit: link.mbit ?? 0, loss_pct: link.lossPct });
    }
    return vars;
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
    const replace = await this.heal(params);
    if (replace.length) this.say(`recovering: replacing ${replace.join(', ')}`);
    this.say(`terraform apply: ${params.hosts.join(', ')}${params.topology === 'two-clouds' ? ' (two clouds)' : ''}`);
    // The WAN relay is a Node script: the same Node as Ferry's, whatever PATH Terraform gets.
    await this.tf.apply(this.vars(params), { replace, env: { FERRY_NODE: process.execPath } });
    const file = await this.hosts();
    this.say(`waiting for SSH on ${file.hosts.map((h) => h.name).join(', ')}`);
    await this.waitForSsh(file.hosts);
    this.say(`lab up: ${file.hosts.map((h) => `${h.name} (${h.address})`).join(', ')}`);
    return file;
  }

  /** Repairs what it can in place; returns the resources to replace. Without `params`, the flat lab's layout. */
  async heal(params: EnvironmentParams = { hosts: [] }): Promise<string[]> {
    const inState = await this.tf.stateList();
    if (inState.length === 0) return [];
    const layout = this.layout(params);
    const bridgeOf = (cloud: string | undefined) => layout.sites.find((s) => s.cloud === cloud)?.bridge ?? this.config.labBridge;
    const broken: string[] = [];
    for (const res of inState) {
      // `terraform_data.bridge` before the move to one per site (terraform/*/main.tf `moved`), `…bridge["cloud-a"]` after.
      const m = /^terraform_data\.bridge(?:\["([a-z0-9-]+)"\])?$/.exec(res);
      if (!m) continue;
      const bridge = m[1] ? layout.sites.find((s) => s.cloud === m[1])?.bridge : this.config.labBridge;
      if (!bridge) continue; // a site this layout no longer has: apply removes it
      const r = await runLocal('ip', ['link', 'show', bridge], { okCodes: [0, 1] });
      if (r.code !== 0) broken.push(res);
    }
    // A missing bridge replaces everything on it (hosts and gateways): nothing to heal in place.
    if (broken.length) return broken;
    if (inState.includes('terraform_data.wan[0]') && layout.topology === 'two-clouds') {
      const r = await runLocal(WAN_SCRIPT, ['check', this.config.labDir, ...layout.sites.map((s) => s.cloud)], { okCodes: [0, 1] });
      if (r.code !== 0) {
        this.say(`the WAN between the clouds is broken (${r.stderr.replace(/\[wan\] /g, '').trim()}): rebuilding it`);
        broken.push('terraform_data.wan[0]');
      }
    }
    const known = await this.tf.output<{ hosts?: { value: TerraformHost[] } }>().catch(() => ({}) as { hosts?: { value: TerraformHost[] } });
    for (const res of inState) {
      const m = /^terraform_data\.host\["([a-z0-9-]+)"\]$/.exec(res);
      if (!m) continue;
      const name = m[1]!;
      const site = siteOf(layout, name);
      const bridge = bridgeOf(site?.cloud);
      if ((await this.hostCheck(name, bridge)).ok) continue;
      // A dead sshd in an intact namespace (or VM) is healed in place, so the host's containers keep running.
      const addr = known.hosts?.value.find((h) => h.name === name)?.address;
      if (addr && site) {
        this.say(`healing ${name}`);
        const route = routeOf(layout, site);
        await runLocal(this.m.script, ['host-heal', name, `${addr}/24`, bridge, this.config.labDir, ...this.m.healArgs(this.config), ...(route ? [route] : [])], { okCodes: [0, 1] });
        if ((await this.hostCheck(name, bridge)).ok) continue;
      }
      broken.push(res);
    }
    return broken;
  }

  /** Turns Terraform outputs (held to terraform/CONTRACT.md) into hosts.json, known_hosts and the Ansible inventory. */
  async hosts(): Promise<HostsFile> {
    const out = parseModuleOutputs(await this.tf.output<unknown>(), `terraform/${this.m.name}`);
    return writeHostsFiles(out, { keyFile: this.keyFile, dir: this.config.labDir, hostsFile: this.config.hostsFile });
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

  private async hostCheck(name: string, bridge: string): Promise<{ ok: boolean; problem: string }> {
    const r = await runLocal(this.m.script, this.m.checkArgs(name, this.config, bridge), { okCodes: [0, 1] });
    return { ok: r.code === 0, problem: r.stderr.replace(/^\[[a-z-]+\] /, '').trim() };
  }

  async down(params: EnvironmentParams | undefined): Promise<void> {
    if (params && (await this.tf.stateList()).length > 0) {
      this.say('terraform destroy');
      await this.tf.destroy(this.vars(params));
    }
    await this.sweep();
  }

  /** This provider's leftovers on every bridge a lab of any topology may have used, and a two-cloud WAN's. */
  async sweep(): Promise<void> {
    await runLocal(WAN_SCRIPT, ['sweep', this.config.labDir], { onLine: (l) => this.say(l.replace(/^\[wan\] /, '')) });
    await this.m.sweep(this.config, this.say, allLabNetworks(this.config).map((n) => n.bridge));
  }

  async status(params: EnvironmentParams): Promise<EnvironmentStatus> {
    let file: HostsFile | undefined;
    try {
      file = JSON.parse(await readFile(this.config.hostsFile, 'utf8')) as HostsFile;
    } catch {
      file = undefined;
    }
    const layout = this.layout(params);
    const hosts = await Promise.all(
      params.hosts.map(async (name): Promise<HostHealth> => {
        const spec = file?.hosts.find((h) => h.name === name);
        const site = siteOf(layout, name);
        const check = await this.hostCheck(name, site?.bridge ?? this.config.labBridge);
        let ssh = false;
        if (spec && check.ok) {
          const h = new RemoteHost(spec, { defaultTimeoutS: 30 });
          ssh = await h.run(['true']).then(
            () => true,
            () => false,
          );
          h.dispose();
        }
        return { name, cloud: site?.cloud, address: spec?.address ?? '?', whole: check.ok, ssh, problem: check.ok ? undefined : check.problem };
      }),
    );
    return { topology: layout.topology, hosts, ...(layout.link ? { wan: await this.wanStatus(layout) } : {}) };
  }

  private async wanStatus(layout: LabLayout): Promise<WanHealth> {
    const relay = await runLocal(WAN_SCRIPT, ['relay-check', this.config.labDir], { okCodes: [0, 1] });
    const gateways = await Promise.all(
      layout.sites.map(async (site, i): Promise<GatewayHealth> => {
        const n = gatewayNames(i, site);
        const check = await runLocal(WAN_SCRIPT, ['gateway-check', site.cloud], { okCodes: [0, 1] });
        // wg talks to wireguard-go's control socket, which is on the shared filesystem: no need to enter the namespace.
        const hs = check.code === 0 ? await runLocal('wg', ['show', n.wg, 'latest-handshakes'], { okCodes: [0, 1] }) : undefined;
        const last = hs?.code === 0 ? Number(hs.stdout.trim().split(/\s+/)[1]) : 0;
        return {
          cloud: site.cloud,
          namespace: n.namespace,
          wg: n.wg,
          lanAddress: n.lan,
          publicAddress: n.public,
          whole: check.code === 0,
          handshakeAgeS: last > 0 ? Math.max(0, Math.round(Date.now() / 1000 - last)) : null,
          ...(check.code === 0 ? {} : { problem: check.stderr.replace(/^\[wan\] /, '').trim() }),
        };
      }),
    );
    return {
      link: layout.link!,
      emulation: describeWan(layout.link!),
      relay: { whole: relay.code === 0, ...(relay.code === 0 ? {} : { problem: relay.stderr.replace(/^\[wan\] /, '').trim() }) },
      gateways,
    };
  }
}
