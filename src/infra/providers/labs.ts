import path from 'node:path';
import { REPO_ROOT, type FerryConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { runLocal } from '../../util/run-local.ts';
import type { EnvironmentProvider, Say } from './provider.ts';
import { TerraformLab, type LabModule } from './TerraformLab.ts';

const dir = (p: string) => path.join(REPO_ROOT, 'terraform', p);

/** The namespace lab: one network namespace, sshd and mount namespace per host, on the controller's kernel. */
export const LOCAL_LAB: LabModule = {
  name: 'local',
  moduleDir: dir('local'),
  script: path.join(dir('local'), 'lab.sh'),
  stateDir: 'terraform',
  sshWaitS: 20,
  extraVars: () => ({}),
  healArgs: () => [],
  checkArgs: (name, c) => ['host-check', name, c.labDir],
  async sweep(c, say) {
    const netns = await runLocal('ip', ['netns', 'list'], { okCodes: [0, 1] });
    for (const line of netns.stdout.split('\n')) {
      const m = /^ferry-([a-z][a-z0-9-]*)/.exec(line);
      // A two-cloud lab's gateways and WAN are not hosts: wan.sh sweeps them (TerraformLab.sweep).
      if (m && !/^(gw-|wan$)/.test(m[1]!)) {
        say(`sweeping leftover host ${m[1]}`);
        await runLocal(LOCAL_LAB.script, ['host-down', m[1]!, c.labDir]);
      }
    }
  },
};

/** The qemu lab: each host a VM (software emulation) with a stock Debian kernel, which tracks dirty memory. */
export const QEMU_LAB: LabModule = {
  name: 'qemu',
  moduleDir: dir('qemu'),
  script: path.join(dir('qemu'), 'qemu-lab.sh'),
  stateDir: 'terraform-qemu',
  // VMs under software emulation: slower to boot and to answer.
  sshWaitS: 60,
  extraVars: (c) => ({ memory_mb: String(c.qemuMemoryMb), boot_timeout_s: '120', cache_dir: path.join(c.cacheDir, 'qemu') }),
  healArgs: (c) => [String(c.qemuMemoryMb), '120', path.join(c.cacheDir, 'qemu')],
  checkArgs: (name, c, bridge) => ['host-check', name, c.labDir, bridge],
  async prepare(c, say) {
    say('preparing the VM kernel and initramfs (scripts/qemu-setup.sh)');
    await runLocal('bash', [path.join(REPO_ROOT, 'scripts', 'qemu-setup.sh')], { env: { FERRY_CACHE_DIR: c.cacheDir } });
  },
  async sweep(c, _say, bridges) {
    for (const br of bridges) await runLocal(QEMU_LAB.script, ['sweep', c.labDir, br], { okCodes: [0, 1] });
  },
};

const MODULES: Record<string, LabModule> = { local: LOCAL_LAB, qemu: QEMU_LAB };

export const LAB_PROVIDERS = Object.keys(MODULES);

export function parseProvider(s: string): string {
  if (s in MODULES) return s;
  throw new FerryError(ErrorCode.UsageError, `unknown lab provider '${s}': choose local (network namespaces, the default) or qemu (VMs with a stock kernel, for pre-copy)`);
}

/** The provider behind an environment name (the `environment` of a hosts file), or null when Ferry has none here. */
export function labProvider(name: string, config: FerryConfig, say?: Say): EnvironmentProvider | null {
  const m = MODULES[name];
  return m ? new TerraformLab(m, config, say) : null;
}

export function allLabProviders(config: FerryConfig, say?: Say): EnvironmentProvider[] {
  return Object.values(MODULES).map((m) => new TerraformLab(m, config, say));
}
