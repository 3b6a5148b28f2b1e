/**
 * `ferry env`: a cloud environment's life on the controller, run through the real CLI and real
 * Terraform with the real hashicorp/aws provider from the offline mirror. The cloud itself cannot
 * exist here (no AWS account, no network): the only stand-in is fake credentials with the module's
 * `offline_plan` switch, so `create --plan-only` plans against nothing and creates nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry as runFerry } from '../helpers/lab.ts';

let dir: string;

/** `ferry` with this test's lab directory and fake AWS credentials. */
function ferry(args: string[]) {
  return runFerry(args, {
    ...process.env,
    FERRY_LAB_DIR: dir,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake/fake/fake/fake/fake/fake/fake/fake0',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-env-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ferry env', () => {
  it('create --plan-only makes the keys, plans terraform/aws and creates nothing; list shows it; destroy removes it', async () => {
    const made = await ferry(['env', 'create', 'staging', '--provider', 'aws', '--hosts', '2', '--plan-only', '--json', '--var', 'offline_plan=true', '--var', 'ami_id=ami-0123456789abcdef0']);
    expect(made.code, made.stderr).toBe(0);
    const plan = JSON.parse(made.stdout) as { hosts: string[]; changes: boolean };
    expect(plan).toMatchObject({ hosts: ['aws-1', 'aws-2'], changes: true });
    const envDir = path.join(dir, 'envs', 'staging');
    // Keys are made on the controller, private ones unreadable by others; the var-file holds them.
    for (const f of ['id_ed25519', 'host-keys/aws-1/ssh_host_ed25519_key', 'host-keys/aws-2/ssh_host_ed25519_key', 'wireguard.json', 'terraform.tfvars.json']) {
      expect(statSync(path.join(envDir, f)).mode & 0o077, f).toBe(0);
    }
    const vars = JSON.parse(await readFile(path.join(envDir, 'terraform.tfvars.json'), 'utf8')) as Record<string, unknown>;
    expect(vars).toMatchObject({ environment: 'staging', hosts: ['aws-1', 'aws-2'], ami_id: 'ami-0123456789abcdef0', offline_plan: true });
    expect(String(vars.ssh_public_key)).toMatch(/^ssh-ed25519 /);
    expect(existsSync(path.join(envDir, 'terraform', 'terraform.tfstate'))).toBe(false);

    const list = await ferry(['env', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'staging', provider: 'aws', hosts: ['aws-1', 'aws-2'] })]);

    const gone = await ferry(['env', 'destroy', 'staging']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(existsSync(envDir)).toBe(false);
    expect((await ferry(['env', 'list'])).stdout).toMatch(/no environments/);
  });

  it.each([
    [['env', 'create', 'x1', '--provider', 'azure'], /unknown provider 'azure'.*aws, gcp, two-clouds/],
    [['env', 'create', 'local', '--provider', 'aws'], /'local' is the lab's name/],
    [['env', 'create', 'x1', '--provider', 'aws', '--var', 'ssh_public_key=ssh-ed25519 AAAA'], /--var ssh_public_key: Ferry makes that one itself/],
    [['env', 'create', 'x1', '--provider', 'aws', '--var', 'Bad-Name=1'], /--var wants name=value/],
    [['env', 'create', '../etc', '--provider', 'aws'], /environment/],
    [['env', 'destroy', 'nothere'], /no environment named 'nothere'/],
  ])('refuses %j with a clear reason and creates nothing', async (args, message) => {
    const r = await ferry(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'envs', 'x1'))).toBe(false);
  });
});
