import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runLocal, type LocalRunOptions } from '../util/run-local.ts';

/** Terraform CLI for one root module with its state kept outside the repository. */
export class Terraform {
  constructor(
    private readonly moduleDir: string,
    /** Holds state, plugin data and the CLI config. */
    private readonly stateDir: string,
  ) {}

  private get statePath(): string {
    return path.join(this.stateDir, 'terraform.tfstate');
  }

  private async env(): Promise<Record<string, string>> {
    await mkdir(this.stateDir, { recursive: true });
    const rc = path.join(this.stateDir, 'terraformrc');
    // The AWS provider comes from the image's filesystem mirror (the registry is unreachable here); any
    // other provider (google) from the registry, where it is reachable.
    await writeFile(
      rc,
      `provider_installation {\n  filesystem_mirror {\n    path    = "/opt/tf-plugins"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n`,
    );
    return {
      TF_CLI_CONFIG_FILE: rc,
      TF_DATA_DIR: path.join(this.stateDir, '.terraform'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
    };
  }

  private async tf(args: string[], opts: LocalRunOptions = {}) {
    return runLocal('terraform', [`-chdir=${this.moduleDir}`, ...args], { ...opts, env: { ...(await this.env()), ...opts.env } });
  }

  async init(opts: LocalRunOptions = {}): Promise<void> {
    await this.tf(['init', '-input=false', '-no-color'], opts);
  }

  async apply(vars: Vars, extra: { replace?: string[] } & LocalRunOptions = {}): Promise<void> {
    const args = ['apply', '-auto-approve', '-input=false', '-no-color', `-state=${this.statePath}`, ...varArgs(vars)];
    for (const r of extra.replace ?? []) args.push(`-replace=${r}`);
    await this.tf(args, extra);
  }

  /** Returns true when the plan has changes (detailed exit code 2). */
  async plan(vars: Vars, opts: LocalRunOptions & { out?: string } = {}): Promise<{ changes: boolean; text: string }> {
    const r = await this.tf(['plan', '-input=false', '-no-color', '-detailed-exitcode', `-state=${this.statePath}`, ...(opts.out ? [`-out=${opts.out}`] : []), ...varArgs(vars)], {
      ...opts,
      okCodes: [0, 2],
    });
    return { changes: r.code === 2, text: r.stdout };
  }

  async destroy(vars: Vars, opts: LocalRunOptions = {}): Promise<void> {
    await this.tf(['destroy', '-auto-approve', '-input=false', '-no-color', `-state=${this.statePath}`, ...varArgs(vars)], opts);
  }

  async output<T = Record<string, { value: unknown }>>(): Promise<T> {
    const r = await this.tf(['output', '-json', '-no-color', `-state=${this.statePath}`]);
    return JSON.parse(r.stdout || '{}') as T;
  }

  async stateList(): Promise<string[]> {
    const r = await this.tf(['state', 'list', `-state=${this.statePath}`], { okCodes: [0, 1] });
    return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
  }
}

/**
 * A module's variables: plain ones as `-var k=v`, or a JSON var-file (0600, written by the
 * caller) for values that must not appear in the process list: private keys, credentials.
 */
export type Vars = Record<string, string> | { varFile: string };

function varArgs(vars: Vars): string[] {
  if ('varFile' in vars && typeof vars.varFile === 'string' && Object.keys(vars).length === 1) return [`-var-file=${vars.varFile}`];
  return Object.entries(vars as Record<string, string>).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
}
