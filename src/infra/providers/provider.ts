import type { HostsFile } from '../../hosts/inventory.ts';

/** What an environment is asked to hold. */
export interface EnvironmentParams {
  /** Host names, in order. */
  hosts: string[];
}

export interface HostHealth {
  name: string;
  address: string;
  /** Everything the host is made of exists (namespace and sshd, or the VM and its tap). */
  whole: boolean;
  /** The controller reaches it over SSH. */
  ssh: boolean;
  problem?: string;
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
  /** Each host and whether it is whole and reachable. */
  status(params: EnvironmentParams): Promise<HostHealth[]>;
  /** Repairs hosts in place where it can (their containers survive); returns the resources that must be replaced. */
  heal(): Promise<string[]>;
  /** The hosts file rendered from the module's outputs. */
  hosts(): Promise<HostsFile>;
  /** `terraform plan`: what `up` would change. */
  plan(params: EnvironmentParams): Promise<Plan>;
  /** Removes leftovers of this provider that no state knows of (an interrupted run, a lost state). */
  sweep(): Promise<void>;
}
