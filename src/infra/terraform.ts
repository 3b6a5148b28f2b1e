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

  async apply(vars: Record<string, string>, extra: { replace?: string[] } & LocalRunOptions = {}): Promise<void> {
    const args = ['apply', '-auto-approve', '-input=false', '-no-color', `-state=${this.statePath}`, ...varArgs(vars)];
    for (const r of extra.replace ?? []) args.push(`-replace=${r}`);
    await this.tf(args, extra);
  }

  /** Returns true when the plan has changes (detailed exit code 2). */
  async plan(vars: Record<string, string>, opts: LocalRunOptions = {}): Promise<{ changes: boolean; text: string }> {
    const r = await this.tf(['plan', '-input=false', '-no-color', '-detailed-exitcode', `-state=${this.statePath}`, ...varArgs(vars)], {
      ...opts,
      okCodes: [0, 2],
    });
    return { changes: r.code === 2, text: r.stdout };
  }

  async destroy(vars: Record<string, string>, opts: LocalRunOptions = {}): Promise<void> {
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

function varArgs(vars: Record<string, string>): string[] {
  return Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
}
