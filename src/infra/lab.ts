import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { runLocal } from '../util/run-local.ts';
import type { LinkProfile } from './link/profile.ts';
import { LOCAL_LAB, allLabProviders, labProvider } from './providers/labs.ts';
import type { EnvironmentParams, EnvironmentProvider, EnvironmentStatus, Plan, Say } from './providers/provider.ts';
import { allLabNetworks, topologyHostNames, type TopologyName, type TopologyParams } from './providers/topology.ts';

export { LAB_PROVIDERS, parseProvider } from './providers/labs.ts';
export { TOPOLOGIES, parseTopology, type TopologyName } from './providers/topology.ts';

/** What `lab up` was asked for, kept in the lab directory so status, plan and down need no flags. */
export interface LabState extends EnvironmentParams {
  provider: string;
  topology: TopologyName;
}

/**
 * The lab on this controller: one environment at a time, of whichever provider `up` was given.
 * Remembers which (lab.json), and swaps providers by taking the old lab down first.
 */
export class Lab {
  constructor(
    private readonly config: FerryConfig,
    private readonly say: Say = () => {},
  ) {}

  private get stateFile(): string {
    return path.join(this.config.labDir, 'lab.json');
  }

  private provider(name: string): EnvironmentProvider {
    const p = labProvider(name, this.config, this.say);
    if (!p) throw new FerryError(ErrorCode.ConfigInvalid, `no lab provider named '${name}'`);
    return p;
  }

  /**
   * Brings the lab up as asked, or repairs it. Without a topology, the lab keeps the one it is up
   * with (the flat one when it is down); a two-cloud lab without a link keeps its link (`wan` when new).
   * Another provider or topology takes the lab down first.
   */
  async up(count = 2, provider = 'local', opts: TopologyParams = {}): Promise<HostsFile> {
    requireRoot();
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new FerryError(ErrorCode.UsageError, `--hosts must be between 1 and 50 (got ${count})`);
    }
    const previous = await this.read();
    const same = previous?.provider === provider ? previous : undefined;
    const topology = opts.topology ?? same?.topology ?? 'flat';
    if (opts.link && topology !== 'two-clouds') {
      throw new FerryError(ErrorCode.UsageError, '--link shapes the WAN between two clouds: add --topology two-clouds (a flat lab has no WAN; `ferry bench --link` shapes its hosts per run)');
    }
    const link: LinkProfile | undefined = topology === 'two-clouds' ? (opts.link ?? (same?.topology === 'two-clouds' ? same.link : undefined)) : undefined;
    const hosts = topologyHostNames(topology, count);
    if (previous && (previous.provider !== provider || previous.topology !== topology)) {
      this.say(`the lab is up with provider ${previous.provider}, topology ${previous.topology}: taking it down first`);
      await this.down();
    }
    const state: LabState = { hosts, provider, topology, ...(link ? { link } : {}) };
    const file = await this.provider(provider).up(state);
    await writeFile(this.stateFile, JSON.stringify(state, null, 2));
    return file;
  }

  /** `terraform plan` of the lab as it was brought up: what `up` would change (dry runs). */
  async plan(): Promise<Plan> {
    const state = await this.read();
    if (!state) return { changes: true, text: 'the lab is down: `ferry lab up` would create it' };
    return this.provider(state.provider).plan(state);
  }

  async down(): Promise<void> {
    requireRoot();
    const state = await this.read();
    if (state) await this.provider(state.provider).down(state);
    // Sweep what Terraform may not know about (a lost state, a host from an older lab), for every provider.
    for (const p of allLabProviders(this.config, this.say)) await p.sweep();
    for (const n of allLabNetworks(this.config)) await runLocal(LOCAL_LAB.script, ['bridge-down', n.bridge, n.subnet]);
    await rm(path.join(this.config.labDir, 'hosts'), { recursive: true, force: true });
    for (const f of [this.config.hostsFile, this.stateFile, path.join(this.config.labDir, 'inventory.ini'), path.join(this.config.labDir, 'known_hosts')]) {
      await rm(f, { force: true });
    }
    this.say('lab down');
  }

  /** The lab's hosts (and a two-cloud lab's gateways and WAN), or undefined when it is down. */
  async status(): Promise<EnvironmentStatus | undefined> {
    const state = await this.read();
    if (!state) return undefined;
    return this.provider(state.provider).status(state);
  }

  /** What the lab was brought up as, or undefined when it is down. */
  async current(): Promise<LabState | undefined> {
    return this.read();
  }

  /** The provider the lab is up with, or undefined when it is down. */
  async currentProvider(): Promise<string | undefined> {
    return (await this.read())?.provider;
  }

  private async read(): Promise<LabState | undefined> {
    try {
      const s = JSON.parse(await readFile(this.stateFile, 'utf8')) as Partial<LabState>;
      return { hosts: s.hosts ?? [], provider: s.provider ?? 'local', topology: s.topology ?? 'flat', ...(s.link ? { link: s.link } : {}) };
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
