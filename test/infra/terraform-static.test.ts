/**
 * Static checks of Ferry's Terraform modules: no lab, no cloud, no network. `terraform fmt`, then
 * `init` + `validate` of every module whose providers the machine image carries (the AWS provider's
 * filesystem mirror at /opt/tf-plugins), and `plan`s whose outputs are held to terraform/CONTRACT.md.
 * The clouds cannot exist here: the AWS plan runs with fake credentials and the provider's skip
 * flags (`offline_plan`), which is the one stand-in. Terraform runs on a copy of terraform/ in a
 * temporary directory with its own CLI config and TF_DATA_DIR, so nothing lands in the repository.
 * terraform-contract.test.ts holds every module's outputs to the contract from its HCL alone, gcp and
 * two-clouds included.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { parseModuleOutputs, type ModuleOutputs } from '../../src/infra/contract.ts';

const MIRROR = '/opt/tf-plugins';
const TF_SOURCE = path.join(REPO_ROOT, 'terraform');
const FIXTURES = path.join(REPO_ROOT, 'test', 'infra', 'fixtures');
/** Providers known to be missing offline: modules needing them are only fmt-checked. */
const NOT_OFFLINE: Record<string, string> = {
  'hashicorp/google':
    'needs the hashicorp/google provider, which is not available offline (the image mirrors only hashicorp/aws at /opt/tf-plugins): only `terraform fmt` checks it here (terraform-contract.test.ts reads its outputs from the HCL)',
};

// CI has terraform; a machine without it must not pass these checks by skipping them.
function requireTool(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
  } catch {
    throw new Error(`${file} is not on PATH: the static checks need it (the machine image carries terraform 1.11 in /usr/local/bin)`);
  }
}
requireTool('terraform', ['version']);

/**
 * terraform/lib holds what several modules share: scripts, and .tf files (variables, logic) that each
 * module using them links to by a relative symlink, as Terraform has no include. It is no module.
 */
const SHARED = path.join(TF_SOURCE, 'lib');

/** Every directory under terraform/ holding .tf files (terraform/lib aside), relative to terraform/. */
function moduleDirs(dir = TF_SOURCE): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) out.push(path.relative(TF_SOURCE, dir));
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && path.join(dir, e.name) !== SHARED) out.push(...moduleDirs(path.join(dir, e.name)));
  }
  return out.sort();
}

/** Every symlinked .tf in a module: [the link, relative to terraform/, its target as written]. */
function sharedLinks(): [string, string][] {
  return MODULES.flatMap((rel) =>
    readdirSync(path.join(TF_SOURCE, rel), { withFileTypes: true })
      .filter((e) => e.isSymbolicLink() && e.name.endsWith('.tf'))
      .map((e): [string, string] => [path.join(rel, e.name), readlinkSync(path.join(TF_SOURCE, rel, e.name))]),
  );
}

/** Providers a module needs, its local child modules' included (`source = "hashicorp/aws"`). */
function providersOf(rel: string, seen = new Set<string>()): Set<string> {
  const found = new Set<string>();
  if (seen.has(rel)) return found;
  seen.add(rel);
  const dir = path.join(TF_SOURCE, rel);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/source\s*=\s*"([a-z0-9-]+\/[a-z0-9-]+)"/g)) found.add(m[1]!);
    for (const m of text.matchAll(/source\s*=\s*"(\.\.?\/[^"]+)"/g)) {
      for (const p of providersOf(path.relative(TF_SOURCE, path.resolve(dir, m[1]!)), seen)) found.add(p);
    }
  }
  return found;
}

function callsModule(rel: string, child: string): boolean {
  const dir = path.join(TF_SOURCE, rel);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.tf'))
    .some((f) => [...readFileSync(path.join(dir, f), 'utf8').matchAll(/source\s*=\s*"(\.\.?\/[^"]+)"/g)].some((m) => path.relative(TF_SOURCE, path.resolve(dir, m[1]!)) === child));
}

function whySkipped(rel: string): string | null {
  for (const p of providersOf(rel)) {
    if (existsSync(path.join(MIRROR, 'registry.terraform.io', p))) continue;
    // Any other missing provider is a broken image: init fails below and says so.
    if (NOT_OFFLINE[p]) return NOT_OFFLINE[p]!;
  }
  return null;
}

const MODULES = moduleDirs();
let work: string;
let tfRoot: string;
const inits = new Map<string, Promise<void>>();

/** terraform in the copy, with nothing from the caller's environment (no real cloud credentials). */
async function tf(rel: string, args: string[], env: Record<string, string> = {}, okCodes = [0]) {
  const r = await execa('terraform', [`-chdir=${path.join(tfRoot, rel)}`, ...args], {
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      TF_CLI_CONFIG_FILE: path.join(work, 'terraformrc'),
      TF_DATA_DIR: path.join(work, 'data', rel.replaceAll('/', '-')),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      ...env,
    },
  });
  if (!okCodes.includes(r.exitCode ?? -1)) {
    throw new Error(`terraform ${args[0]} in terraform/${rel} failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`.trim());
  }
  return r.stdout;
}

function init(rel: string): Promise<void> {
  if (!inits.has(rel)) inits.set(rel, tf(rel, ['init', '-input=false', '-no-color', '-backend=false']).then(() => undefined));
  return inits.get(rel)!;
}

/** A plan's `hosts` output: known fields as planned, unknown ones (addresses) as a placeholder. */
interface PlannedHosts {
  outputs: ModuleOutputs;
  unknown: Set<string>[];
}
const UNKNOWN = 'unknown-until-apply';

function plannedHosts(plan: PlanJson, source: string): PlannedHosts {
  const oc = plan.output_changes;
  const after = oc.hosts!.after as Record<string, unknown>[];
  const afterUnknown = (oc.hosts!.after_unknown || []) as (Record<string, boolean> | boolean)[];
  const unknown = after.map((_, i) => {
    const u = afterUnknown[i];
    return new Set(typeof u === 'object' ? Object.keys(u).filter((k) => u[k] === true) : []);
  });
  const filled = after.map((h, i) => ({ ...h, ...Object.fromEntries([...unknown[i]!].map((k) => [k, UNKNOWN])) }));
  const json = {
    environment: { value: oc.environment?.after },
    ...(oc.controller_address?.after != null ? { controller_address: { value: oc.controller_address.after } } : {}),
    hosts: { value: filled },
  };
  return { outputs: parseModuleOutputs(json, source), unknown };
}

interface PlanJson {
  output_changes: Record<string, { after: unknown; after_unknown?: unknown }>;
  resource_changes: { address: string; type: string; change: { after: Record<string, unknown>; after_unknown: Record<string, unknown> } }[];
}

async function planJson(rel: string, vars: Record<string, string>, env: Record<string, string> = {}): Promise<{ plan: PlanJson; text: string }> {
  await init(rel);
  const planFile = path.join(work, `${rel.replaceAll('/', '-')}.tfplan`);
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
  await tf(rel, ['plan', '-input=false', '-no-color', '-lock=false', `-state=${path.join(work, `${rel.replaceAll('/', '-')}.tfstate`)}`, `-out=${planFile}`, ...varArgs], env);
  const text = await tf(rel, ['show', '-json', '-no-color', planFile], env);
  return { plan: JSON.parse(text) as PlanJson, text };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-tf-static-'));
  tfRoot = path.join(work, 'terraform');
  // Only the sources: init would write lock files and data beside the modules.
  // Relative symlinks stay as written (Node would make them absolute, into the repository), so the
  // copy shows that the modules' links into terraform/lib hold wherever the tree is copied.
  await cp(TF_SOURCE, tfRoot, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !/(^|\/)(\.terraform(\.lock\.hcl)?|[^/]*\.tfstate[^/]*)$/.test(src),
  });
  await writeFile(
    path.join(work, 'terraformrc'),
    [
      'provider_installation {',
      `  filesystem_mirror {\n    path    = "${MIRROR}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }`,
      '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }',
      '}',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('terraform/', () => {
  it.each([TF_SOURCE, FIXTURES])('%s is formatted (terraform fmt -check -recursive)', async (dir) => {
    const r = await execa('terraform', ['fmt', '-check', '-recursive', '-diff', '-no-color', dir], { reject: false, env: { CHECKPOINT_DISABLE: '1' } });
    expect(r.stdout, `run \`terraform fmt -recursive ${path.relative(REPO_ROOT, dir)}\``).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('has the modules these checks expect', () => {
    expect(MODULES).toEqual(expect.arrayContaining(['aws', 'gcp', 'local', 'qemu', 'two-clouds', 'modules/aws-site', 'modules/gcp-site']));
  });

  it('links shared .tf files by relative symlinks into terraform/lib, each shared file used by a module', () => {
    const links = sharedLinks();
    for (const [link, target] of links) {
      expect(path.isAbsolute(target), `terraform/${link} -> ${target}: make it relative, or it breaks in a copy of the tree`).toBe(false);
      const resolved = path.resolve(TF_SOURCE, path.dirname(link), target);
      expect(path.dirname(resolved), `terraform/${link} -> ${target} points outside terraform/lib`).toBe(SHARED);
      expect(existsSync(resolved), `terraform/${link} -> ${target} is dangling`).toBe(true);
    }
    const used = new Set(links.map(([link, target]) => realpathSync(path.resolve(TF_SOURCE, path.dirname(link), target))));
    for (const f of readdirSync(SHARED).filter((n) => n.endsWith('.tf'))) {
      expect(used.has(realpathSync(path.join(SHARED, f))), `terraform/lib/${f} is linked from no module, so nothing validates it`).toBe(true);
    }
  });

  // Validating a root validates the child modules it calls; every child module must have one.
  for (const rel of MODULES.filter((m) => !m.startsWith('modules/'))) {
    const skip = whySkipped(rel);
    if (skip) console.warn(`SKIPPED init + validate of terraform/${rel}: ${skip}`);
    it.skipIf(skip !== null)(`terraform/${rel}: init + validate${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      await init(rel);
      const out = await tf(rel, ['validate', '-json', '-no-color'], {}, [0, 1]);
      const v = JSON.parse(out) as { valid: boolean; diagnostics: { severity: string; summary: string; detail?: string }[] };
      expect(v.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary}: ${d.detail ?? ''}`)).toEqual([]);
      expect(v.valid).toBe(true);
    });
  }

  it('validates every child module through a root that calls it (or skips it with that root)', () => {
    const children = MODULES.filter((m) => m.startsWith('modules/'));
    const roots = MODULES.filter((m) => !m.startsWith('modules/'));
    for (const child of children) {
      const callers = roots.filter((r) => callsModule(r, child));
      expect(callers, `terraform/${child} is called by no root module, so nothing validates it`).not.toEqual([]);
      if (whySkipped(child) === null) expect(callers.some((r) => whySkipped(r) === null), `no validated root calls terraform/${child}`).toBe(true);
    }
  });
});

describe('plans held to the output contract', () => {
  it('terraform/local plans hosts that meet the contract', async () => {
    const labDir = path.join(work, 'lab');
    const { plan } = await planJson('local', { lab_dir: labDir, hosts: '["lab-1","lab-2"]' });
    const { outputs, unknown } = plannedHosts(plan, 'terraform/local (plan)');
    expect(outputs.environment).toBe('local');
    expect(outputs.controllerAddress).toBe('10.247.0.1');
    expect(outputs.hosts).toEqual([
      { name: 'lab-1', address: '10.247.0.11', port: 22, user: 'root', hostKeyFile: `${labDir}/hosts/lab-1/etc-ssh/ssh_host_ed25519_key.pub`, provider: 'local', cloud: 'local', peerAddress: '10.247.0.11' , controllerAddress: '10.247.0.1' },
      { name: 'lab-2', address: '10.247.0.12', port: 22, user: 'root', hostKeyFile: `${labDir}/hosts/lab-2/etc-ssh/ssh_host_ed25519_key.pub`, provider: 'local', cloud: 'local', peerAddress: '10.247.0.12' , controllerAddress: '10.247.0.1' },
    ]);
    expect(unknown.map((u) => [...u])).toEqual([['id'], ['id']]);
  });

  it('terraform/qemu plans hosts that meet the contract', async () => {
    const labDir = path.join(work, 'lab');
    const { plan } = await planJson('qemu', { lab_dir: labDir, hosts: '["lab-1"]', cache_dir: path.join(work, 'no-qemu-cache') });
    const { outputs } = plannedHosts(plan, 'terraform/qemu (plan)');
    expect(outputs.environment).toBe('qemu');
    expect(outputs.hosts).toEqual([
      { name: 'lab-1', address: '10.247.0.11', port: 22, user: 'root', hostKeyFile: `${labDir}/hosts/lab-1/etc-ssh/ssh_host_ed25519_key.pub`, provider: 'qemu', cloud: 'qemu', peerAddress: '10.247.0.11' , controllerAddress: '10.247.0.1' },
    ]);
  });

  describe('terraform/aws, offline with fake credentials', () => {
    const hosts = ['aws-1', 'aws-2'];
    const pairHosts = ['a-1', 'a-2', 'b-1'];
    let keyDir: string;
    let plan: PlanJson;
    let text: string;
    const wg = x25519();
    const peer = x25519();
    const ingress = () => plan.resource_changes.filter((r) => r.type === 'aws_vpc_security_group_ingress_rule').map((r) => r.change.after);

    beforeAll(async () => {
      keyDir = path.join(work, 'host-keys');
      for (const h of [...hosts, ...pairHosts]) {
        await mkdir(path.join(keyDir, h), { recursive: true });
        await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h, '-f', path.join(keyDir, h, 'ssh_host_ed25519_key')]);
      }
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-controller', '-f', path.join(work, 'controller_key')]);
      ({ plan, text } = await planJson(
        'aws',
        {
          offline_plan: 'true',
          ami_id: 'ami-0123456789abcdef0', // the Debian AMI lookup needs the AWS API
          hosts: JSON.stringify(hosts),
          host_key_dir: keyDir,
          ssh_public_key: readFileSync(path.join(work, 'controller_key.pub'), 'utf8').trim(),
          wireguard_private_key: wg.privateKey,
          peer_public_key: peer.publicKey,
          peer_endpoint: '198.51.100.20',
          peer_subnet: '10.30.1.0/24',
        },
        fakeAws(),
      ));
    });

    it('plans hosts whose known outputs meet the contract; addresses are unknown until apply', () => {
      const { outputs, unknown } = plannedHosts(plan, 'terraform/aws (plan)');
      expect(outputs.environment).toBe('aws');
      expect(outputs.controllerAddress).toBeNull();
      expect(outputs.hosts).toEqual(
        hosts.map((name) => ({
          name,
          address: UNKNOWN,
          port: 22,
          user: 'root',
          hostKeyFile: path.join(keyDir, name, 'ssh_host_ed25519_key.pub'),
          provider: 'aws',
          cloud: 'aws',
          peerAddress: UNKNOWN,
          // A cloud's hosts cannot reach a controller outside it, unless told where (controller_address).
          controllerAddress: null,
        })),
      );
      for (const u of unknown) expect([...u].sort()).toEqual(['address', 'instance_id', 'peer_address']);
    });

    it("plans Debian hosts of the paper's type, the gateway forwarding for the tunnel", () => {
      const instances = plan.resource_changes.filter((r) => r.type === 'aws_instance');
      expect(instances.map((r) => r.address).sort()).toEqual(hosts.map((h) => `module.site.aws_instance.host["${h}"]`));
      for (const r of instances) {
        expect(r.change.after.instance_type).toBe('t3.medium');
        expect(r.change.after.source_dest_check).toBe(!r.address.includes('"aws-1"'));
      }
      expect(plan.resource_changes.map((r) => r.type)).toEqual(expect.arrayContaining(['aws_eip', 'aws_eip_association', 'aws_route']));
      const peerRoute = plan.resource_changes.find((r) => r.type === 'aws_route' && r.change.after.destination_cidr_block === '10.30.1.0/24');
      expect(peerRoute, 'a route to the other cloud through the gateway').toBeDefined();
    });

    it('opens only SSH, WireGuard (from the peer) and the service port to the outside', () => {
      const internal = new Set(['10.20.1.0/24', '10.30.1.0/24']);
      const outside = ingress()
        .filter((r) => !internal.has(String(r.cidr_ipv4)))
        .map((r) => `${r.ip_protocol}/${r.from_port}-${r.to_port} from ${r.cidr_ipv4}`)
        .sort();
      expect(outside).toEqual(['tcp/22-22 from 0.0.0.0/0', 'tcp/80-80 from 0.0.0.0/0', 'udp/51820-51820 from 198.51.100.20/32']);
      expect(ingress().filter((r) => internal.has(String(r.cidr_ipv4))).map((r) => r.cidr_ipv4).sort()).toEqual([...internal]);
    });

    it('keeps host and WireGuard private keys out of the planned state (the provider stores a hash of user data)', () => {
      const { variables, ...planned } = JSON.parse(text) as { variables: Record<string, { value: unknown }> };
      const state = JSON.stringify(planned);
      expect(state).not.toContain('PRIVATE KEY');
      expect(state).not.toContain(wg.privateKey);
      // The plan file itself holds the input variables as given (README: keep plan files private).
      expect(variables.wireguard_private_key!.value).toBe(wg.privateKey);
    });

    it('refuses to plan a host whose key the controller has not generated', async () => {
      const err = await planJson('aws', {
        offline_plan: 'true',
        ami_id: 'ami-0123456789abcdef0',
        hosts: '["aws-9"]',
        host_key_dir: keyDir,
        ssh_public_key: readFileSync(path.join(work, 'controller_key.pub'), 'utf8').trim(),
      }, fakeAws()).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('No SSH host key for aws-9');
    });

    // terraform/two-clouds needs the Google provider; two AWS sites joined the same way show, offline,
    // that each site naming the other's static address plans without a dependency cycle.
    it('joins two aws-site modules by their static addresses without a cycle (test/infra/fixtures/two-aws-sites)', async () => {
      await cp(path.join(FIXTURES, 'two-aws-sites'), path.join(tfRoot, 'two-aws-sites'), { recursive: true });
      const a = x25519();
      const b = x25519();
      const { plan: pair } = await planJson(
        'two-aws-sites',
        {
          host_key_dir: keyDir,
          ssh_public_key: readFileSync(path.join(work, 'controller_key.pub'), 'utf8').trim(),
          wireguard: JSON.stringify({ a_private: a.privateKey, a_public: a.publicKey, b_private: b.privateKey, b_public: b.publicKey }),
        },
        fakeAws(),
      );
      const { outputs } = plannedHosts(pair, 'two-aws-sites (plan)');
      expect(outputs.hosts.map((h) => `${h.cloud}/${h.name}`)).toEqual(['cloud-a/a-1', 'cloud-a/a-2', 'cloud-b/b-1']);
      const changes = pair.resource_changes;
      // Each site's WireGuard rule admits the other's gateway address, known only after apply.
      const wgRules = changes.filter((r) => r.type === 'aws_vpc_security_group_ingress_rule' && r.address.includes('.wireguard['));
      expect(wgRules.map((r) => r.address).sort()).toEqual(['module.a.aws_vpc_security_group_ingress_rule.wireguard[0]', 'module.b.aws_vpc_security_group_ingress_rule.wireguard[0]']);
      for (const r of wgRules) expect(r.change.after_unknown.cidr_ipv4).toBe(true);
      const routes = changes.filter((r) => r.type === 'aws_route' && r.address.includes('.peer[')).map((r) => `${r.address.split('.')[1]} -> ${r.change.after.destination_cidr_block}`);
      expect(routes.sort()).toEqual(['a -> 10.40.1.0/24', 'b -> 10.20.1.0/24']);
    });
  });
});

/** The clouds cannot exist here: fake credentials, which nothing checks (no data source, skip flags, no API call). */
function fakeAws(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake/fake/fake/fake/fake/fake/fake/fake0',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-aws-credentials'),
  };
}

/** A WireGuard key pair (X25519, base64), as `wg genkey | wg pubkey` makes. */
function x25519(): { privateKey: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const b64 = (s: string | undefined) => Buffer.from(s!, 'base64url').toString('base64');
  return { privateKey: b64(jwk.d), publicKey: b64(jwk.x) };
}
