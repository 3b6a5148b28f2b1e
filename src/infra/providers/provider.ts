import type { HostsFile } from '../../hosts/inventory.ts';
import type { LinkProfile } from '../link/profile.ts';
import type { TopologyName, TopologyParams } from './topology.ts';

/** What an environment is asked to hold: its hosts, and how they are laid out (one site, or two clouds). */
export interface EnvironmentParams extends TopologyParams {
  /** Host names, in order. */
  hosts: string[];
}

export interface HostHealth {
  name: string;
  /** The site or cloud the host is in. */
  cloud?: string;
  address: string;
  /** Everything the host is made of exists (namespace and sshd, or the VM and its tap). */
  whole: boolean;
  /** The controller reaches it over SSH. */
  ssh: boolean;
  problem?: string;
}

/** A two-cloud lab's gateway: WireGuard in its own namespace, with a leg on its cloud's bridge. */
export interface GatewayHealth {
  cloud: string;
  namespace: string;
  /** Its WireGuard interface. */
  wg: string;
  /** Its address on the cloud's bridge (the other cloud's route goes through it). */
  lanAddress: string;
  /** Its WAN ("public") address. */
  publicAddress: string;
  /** The namespace, wireguard-go and its interface are there. */
  whole: boolean;
  /** Seconds since the last WireGuard handshake with the other gateway; null for none yet. */
  handshakeAgeS: number | null;
  problem?: string;
}

/** The WAN between two clouds, as `lab status` reports it. */
export interface WanHealth {
  link: LinkProfile;
  /** How the link is emulated here, in words. */
  emulation: string;
  relay: { whole: boolean; problem?: string };
  gateways: GatewayHealth[];
}

/** An environment's state: its hosts and, for two clouds, the WAN between them. */
export interface EnvironmentStatus {
  topology: TopologyName;
  hosts: HostHealth[];
  wan?: WanHealth;
}

export interface Plan {
  /** `terraform plan` found changes. */
  changes: boolean;
  text: string;
}

/** Reports progress, one line at a time. */
export type Say = (line: string) => void;

/**
 * One kind of environment (the namespace lab, the qemu lab; clouds later): a Terraform module
 * meeting terraform/CONTRACT.md plus whatever plumbing it needs. Everything above (the lab
 * command, the worker's dry run, the demo) talks to this interface only.
 */
export interface EnvironmentProvider {
  /** `local`, `qemu`, … (the `environment` output of its module). */
  readonly name: string;
  /** Creates what is missing, repairs what broke (see heal), and renders the hosts file. */
  up(params: EnvironmentParams): Promise<HostsFile>;
  /** Destroys the environment, then sweeps what Terraform may not know about. */
  down(params: EnvironmentParams | undefined): Promise<void>;
  /** Each host and whether it is whole and reachable (and a two-cloud lab's gateways and WAN). */
  status(params: EnvironmentParams): Promise<EnvironmentStatus>;
  /** Repairs hosts in place where it can (their containers survive); returns the resources that must be replaced. */
  heal(): Promise<string[]>;
  /** The hosts file rendered from the module's outputs. */
  hosts(): Promise<HostsFile>;
  /** `terraform plan`: what `up` would change. */
  plan(params: EnvironmentParams): Promise<Plan>;
  /** Removes leftovers of this provider that no state knows of (an interrupted run, a lost state). */
  sweep(): Promise<void>;
}
