import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, REPO_ROOT } from '../../src/config.ts';
import { runPlaybook } from '../../src/infra/ansible.ts';
import { ensureHostsPki } from '../../src/infra/pki.ts';
import { Lab, type TopologyName } from '../../src/infra/lab.ts';
import { allLabNetworks } from '../../src/infra/providers/topology.ts';
import type { LinkProfile } from '../../src/infra/link/profile.ts';
import { findHost, loadHostsFile, type HostsFile } from '../../src/hosts/inventory.ts';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';

const pexec = promisify(execFile);

export const config = loadConfig();

/** The lab as a suite needs it: flat unless a topology is named (a two-cloud lab left by another suite is taken down). */
export async function labUp(count = 2, provider = 'local', topology: TopologyName = 'flat', link?: LinkProfile): Promise<HostsFile> {
  return new Lab(config).up(count, provider, { topology, link });
}

export async function labDown(): Promise<void> {
  await new Lab(config).down();
}

export async function hostsFile(): Promise<HostsFile> {
  return loadHostsFile(config.hostsFile);
}

/** Runs argv on a lab host over the real SSH path and returns stdout. */
export async function onHost(host: string, argv: string[], opts: { allowFail?: boolean; stdin?: string } = {}): Promise<string> {
  const h = new RemoteHost(findHost(await hostsFile(), host));
  try {
    const r = await h.exec(argv, { stdin: opts.stdin });
    if (r.code !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} on ${host}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    h.dispose();
  }
}

export async function address(host: string): Promise<string> {
  return findHost(await hostsFile(), host).address;
}

/** Deploys a workload on a host, first removing any copy of it elsewhere (a container runs on one host). */
export async function deploy(host: string, vars: Record<string, string | number | boolean>): Promise<void> {
  const file = await hostsFile();
  const name = String(vars.name);
  for (const other of file.hosts.filter((h) => h.name !== host)) {
    await onHost(other.name, ['runc', '--root', '/run/ferry/runc', 'delete', '--force', name], { allowFail: true });
    await onHost(other.name, ['rm', '-rf', `/var/lib/ferry/containers/${name}`], { allowFail: true });
  }
  await runPlaybook('workload.yml', file.inventoryFile, { limit: host, extraVars: { replace: true, ...vars } });
}

export async function provision(): Promise<Record<string, { changed: number; failed: number }>> {
  const file = await hostsFile();
  await ensureHostsPki(config.pkiDir, file);
  return (await runPlaybook('provision.yml', file.inventoryFile)).recap;
}

export async function httpText(host: string, port: number, p: string): Promise<string> {
  const r = await fetch(`http://${await address(host)}:${port}${p}`, { signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`GET ${p} on ${host}: ${r.status}`);
  return (await r.text()).trim();
}

/** The ferry CLI as a user runs it. */
export async function ferry(args: string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await pexec(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), ...args], { maxBuffer: 16 << 20, ...(env ? { env } : {}) });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

export async function runcState(host: string, name: string): Promise<string | null> {
  const out = await onHost(host, ['runc', '--root', '/run/ferry/runc', 'state', name], { allowFail: true });
  return out ? (JSON.parse(out) as { status: string }).status : null;
}

/** Leftovers a migration must not leave on a host. */
export async function debris(host: string): Promise<string[]> {
  const found: string[] = [];
  const images = (await onHost(host, ['ls', '-A', '/var/lib/ferry/images'], { allowFail: true })).trim();
  if (images) found.push(`images: ${images}`);
  const procs = (await onHost(host, ['pgrep', '-af', 'criu (page-server|lazy-pages)'], { allowFail: true })).trim();
  if (procs) found.push(`criu processes: ${procs}`);
  const masters = (await onHost(host, ['pgrep', '-af', 'ControlPath=/run/ferry/[m]igrations'], { allowFail: true })).trim();
  if (masters) found.push(`ssh masters: ${masters}`);
  const keys = await onHost(host, ['cat', '/root/.ssh/authorized_keys']);
  if (keys.includes('ferry-link-')) found.push('link key still authorized');
  const mounts = (await onHost(host, ['cat', '/proc/self/mountinfo'])).split('\n').filter((l) => /criu-root|\.criu\.cgyard/.test(l));
  if (mounts.length) found.push(`criu mounts: ${mounts.length}`);
  return found;
}

/**
 * A known lab state for a suite, whatever ran before (`npm start`'s demo, another suite, a failed
 * run): the named containers (all when none are named) removed from every host, with their bundles,
 * and (when none are named) no migration images, journals or page servers left.
 */
export async function clearLab(names?: string[]): Promise<void> {
  const file = await hostsFile();
  for (const spec of file.hosts) {
    const listed = await onHost(spec.name, ['runc', '--root', '/run/ferry/runc', 'list', '-q'], { allowFail: true });
    const all = listed.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const n of names ?? all) {
      await onHost(spec.name, ['runc', '--root', '/run/ferry/runc', 'delete', '--force', n], { allowFail: true });
      await onHost(spec.name, ['rm', '-rf', `/var/lib/ferry/containers/${n}`, `/run/ferry/runc/${n}`], { allowFail: true });
    }
    if (!names) {
      await onHost(spec.name, ['pkill', '-KILL', '-f', 'criu (page-server|lazy-pages)'], { allowFail: true });
      await onHost(spec.name, ['find', '/var/lib/ferry/images', '/var/lib/ferry/journal', '-mindepth', '1', '-maxdepth', '1', '-exec', 'rm', '-rf', '{}', '+'], { allowFail: true });
    }
  }
  // The CLI's own journal (localJournal): a record another suite left unfinished would otherwise be
  // "recovered" by the next `ferry recover`, about containers this suite never made.
  if (!names) await rm(path.join(config.labDir, 'journal'), { recursive: true, force: true });
}

/**
 * What `ferry lab down` must not leave: namespaces (hosts, gateways, the WAN), bridges of any
 * topology and the gateways' veths, mounts, processes (sshd, wireguard-go, the relay), cgroups,
 * WireGuard control sockets and the WAN's keys.
 */
export function labLeftovers(): string[] {
  const sh = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8' });
  const found: string[] = [];
  const netns = sh('ip', ['netns', 'list']);
  if (/ferry-/.test(netns)) found.push(`namespaces: ${netns.trim()}`);
  const links = sh('ip', ['-o', 'link', 'show']);
  for (const n of allLabNetworks(config)) if (links.includes(` ${n.bridge}:`)) found.push(`bridge ${n.bridge}`);
  const veths = links.split('\n').filter((l) => / fgw-/.test(l));
  if (veths.length) found.push(`gateway veths: ${veths.join('; ')}`);
  const routes = sh('ip', ['route', 'show']).split('\n').filter((l) => allLabNetworks(config).some((n) => l.includes(n.subnet)));
  if (routes.length) found.push(`routes: ${routes.join('; ')}`);
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(`${config.labDir}/hosts`));
  if (mounts.length) found.push(`mounts: ${mounts.join('; ')}`);
  const procs = sh('ps', ['-eo', 'pid,args']).split('\n').filter((l) => (l.includes(`${config.labDir}/hosts/`) || /wireguard-go .*fwg-|wan-relay\.mjs/.test(l)) && !l.includes('ps -eo'));
  if (procs.length) found.push(`processes: ${procs.join('; ')}`);
  for (const c of ['memory', 'freezer', 'pids', 'cpu']) if (existsSync(`/sys/fs/cgroup/${c}/ferry`)) found.push(`cgroup /sys/fs/cgroup/${c}/ferry`);
  const sockets = existsSync('/var/run/wireguard') ? readdirSync('/var/run/wireguard').filter((f) => f.startsWith('fwg-')) : [];
  if (sockets.length) found.push(`WireGuard sockets: ${sockets.join(', ')}`);
  if (existsSync(`${config.labDir}/wan`)) found.push(`${config.labDir}/wan (the WAN's keys and logs)`);
  return found;
}
