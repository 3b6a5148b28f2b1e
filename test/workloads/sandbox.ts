import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/config.ts';
import { runLocal, type LocalRunResult } from '../../src/util/run-local.ts';
import type { OciSpec } from '../../src/workloads/wordpress/spec.ts';

const pexec = promisify(execFile);

/** Ferry's helper that starts runc with stdio on /dev/null (CRIU cannot dump a host file or pipe). */
const DETACHED = path.join(REPO_ROOT, 'playbooks', 'files', 'detached');
const TEMPLATE = path.join(REPO_ROOT, 'playbooks', 'templates', 'config.json.j2');

/**
 * Containers run as Ferry runs them, without Ferry's lab: a network namespace of our own stands
 * for a host (the containers share it, as Ferry's share their host's), a private runc root and a
 * cgroup path of our own. Everything it creates is removed by {@link Sandbox.destroy}, also after
 * a failure halfway.
 */
export class Sandbox {
  readonly netns: string;
  readonly cgroupParent: string;
  readonly dir: string;
  readonly runcRoot: string;
  private readonly ids = new Set<string>();

  private constructor(tag: string, dir: string) {
    this.netns = tag;
    this.cgroupParent = `/${tag}`;
    this.dir = dir;
    this.runcRoot = path.join(dir, 'runc');
  }

  /** TAG names the network namespace and the cgroup parent; never ferry-* (the lab's). */
  static async create(tag: string): Promise<Sandbox> {
    const sb = new Sandbox(tag, await mkdtemp(path.join(os.tmpdir(), `${tag}-`)));
    await runLocal('ip', ['netns', 'add', tag]);
    await runLocal('ip', ['-n', tag, 'link', 'set', 'lo', 'up']);
    return sb;
  }

  bundle(id: string): string {
    return path.join(this.dir, 'bundles', id);
  }

  /** Runs ARGV inside the sandbox's network namespace (nsenter, not `ip netns exec`, which remounts /sys and hides the cgroups from CRIU). */
  inNetns(argv: string[], opts: { okCodes?: number[]; cwd?: string; timeoutMs?: number } = {}): Promise<LocalRunResult> {
    return runLocal('nsenter', [`--net=/var/run/netns/${this.netns}`, ...argv], { timeoutMs: 120_000, ...opts });
  }

  /** Writes BUNDLE/config.json: Ferry's template rendered for ID, then EDIT applied. */
  async writeConfig(id: string, edit: (base: OciSpec) => OciSpec): Promise<void> {
    const base = await renderFerryTemplate({
      ferry_name: id,
      ferry_args: ['/bin/true'],
      ferry_env: [],
      ferry_cwd: '/',
      ferry_cgroups_path: `${this.cgroupParent}/${id}`,
      ferry_criu_config: '',
    });
    await writeFile(path.join(this.bundle(id), 'config.json'), JSON.stringify(edit(base), null, 2));
  }

  async run(id: string): Promise<void> {
    this.ids.add(id);
    await this.inNetns([DETACHED, 'runc', '--root', this.runcRoot, '--log', this.runcLog(id), 'run', '-d', '--bundle', this.bundle(id), id], {
      cwd: this.bundle(id),
    });
  }

  /** A fresh directory for one checkpoint's images (CRIU's logs go there too). */
  async imagesDir(name: string): Promise<string> {
    const images = path.join(this.dir, 'images', name);
    await mkdir(images, { recursive: true });
    return images;
  }

  async checkpoint(id: string, images: string): Promise<void> {
    await this.inNetns(['runc', '--root', this.runcRoot, '--log', this.runcLog(id), 'checkpoint', '--image-path', images, '--work-path', images, id]);
  }

  async restore(id: string, images: string): Promise<void> {
    await this.inNetns(
      [DETACHED, 'runc', '--root', this.runcRoot, '--log', this.runcLog(id), 'restore', '-d', '--image-path', images, '--work-path', images, '--bundle', this.bundle(id), id],
      { cwd: this.bundle(id) },
    );
  }

  async status(id: string): Promise<string> {
    const r = await runLocal('runc', ['--root', this.runcRoot, 'state', id], { okCodes: [0, 1] });
    return r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : 'absent';
  }

  /** The tail of runc's log and of CRIU's logs in IMAGES, for a failure message. */
  async diagnose(id: string, images?: string): Promise<string> {
    const parts: string[] = [];
    for (const f of [this.runcLog(id), ...(images ? ['dump.log', 'restore.log'].map((l) => path.join(images, l)) : [])]) {
      const text = await readFile(f, 'utf8').catch(() => '');
      const errors = text.split('\n').filter((l) => /error/i.test(l) && !/RLIMIT_NOFILE/.test(l));
      if (errors.length) parts.push(`${f}:\n${errors.slice(-8).join('\n')}`);
    }
    return parts.join('\n');
  }

  /** Removes containers, CRIU's leftover mounts, the cgroups, the namespace and the files. Never throws. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    };
    for (const id of this.ids) {
      await attempt(`kill ${id}`, () => pexec('runc', ['--root', this.runcRoot, 'kill', id, 'KILL']).catch(() => undefined));
      await attempt(`delete ${id}`, () => pexec('runc', ['--root', this.runcRoot, 'delete', '--force', id]).catch(() => undefined));
    }
    // A failed restore leaves criu-root under runc's state and cgyard mounts in the images.
    for (const m of (await mountsUnder(this.dir)).reverse()) await attempt(`umount ${m}`, () => pexec('umount', ['-l', m]));
    await attempt('cgroups', () => removeCgroups(this.cgroupParent));
    await attempt('netns', () => pexec('ip', ['netns', 'delete', this.netns]));
    await attempt('files', () => rm(this.dir, { recursive: true, force: true }));
    return problems;
  }

  private runcLog(id: string): string {
    return path.join(this.dir, `${id}.runc.log`);
  }
}

/** Renders playbooks/templates/config.json.j2 with Debian's Jinja2, as Ansible would (to_json = json.dumps). */
export async function renderFerryTemplate(vars: Record<string, unknown>): Promise<OciSpec> {
  const py = [
    'import json, sys, jinja2',
    'env = jinja2.Environment(loader=jinja2.FileSystemLoader("/"), undefined=jinja2.StrictUndefined)',
    'env.filters["to_json"] = json.dumps',
    'print(env.get_template(sys.argv[1]).render(**json.loads(sys.argv[2])))',
  ].join('\n');
  const r = await runLocal('/usr/bin/python3', ['-c', py, TEMPLATE, JSON.stringify(vars)]);
  return JSON.parse(r.stdout) as OciSpec;
}

/** Mount points at or below DIR, outermost first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
}

/** rmdir PARENT and everything below it in every cgroup hierarchy (v1 controllers and the unified one). */
async function removeCgroups(parent: string): Promise<void> {
  const roots = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const c of roots) {
    const top = path.join('/sys/fs/cgroup', c, parent);
    await rmdirTree(top);
  }
}

async function rmdirTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await rmdirTree(path.join(dir, e.name));
  await rmdir(dir);
}
