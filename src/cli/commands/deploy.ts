import { deployContainerUseCase, deployWordpressUseCase, type DeployedContainer } from '../../app/deploy.ts';
import { deployWorkload, hostsRunning } from '../../app/lab.ts';
import { loadHosts } from '../../app/hosts.ts';
import { removeContainersUseCase } from '../../app/remove.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { findHost } from '../../hosts/inventory.ts';
import { parseHealth } from '../../migrate/health.ts';
import { formatBytes } from '../../util/table.ts';
import { validateName } from '../../util/names.ts';
import { parseCommandLine, parseMemorySize, parsePort } from '../../workloads/options.ts';
import type { ContainerInput } from '../../workloads/prepare.ts';
import { runSteps } from '../steps.ts';
import { numberFlag, parseFlags, usageError, type Command, type Output } from '../command.ts';

const DEPLOY_ANY = 'ferry deploy NAME --on HOST (--image FILE|DIR [--ref REF] | --bundle DIR | --rootfs DIR --cmd CMD) [--cmd CMD] [--env K=V]... [--port P]... [--memory SIZE] [--health SPEC] [--group G [--group-order N]] [--json]';
const DEPLOY_WORDPRESS = 'ferry deploy wordpress NAME --on HOST [--web-port P] [--db-port P] [--front [--frontend-port F]] [--rebuild] [--json]';
const DEPLOY_BUILTIN = 'ferry deploy web|kv NAME --on HOST [--mib N] [--dirty-mib-per-s R] [--port P] [--replace] [--verbose] [--json]';
const DEPLOY = [DEPLOY_ANY, DEPLOY_WORDPRESS, DEPLOY_BUILTIN].join('\n       ');

const BUILTIN = ['web', 'kv'] as const;

/** Every flag of the three forms (parsed together, then checked against the form the positionals pick). */
const OPTIONS = {
  on: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  // any container
  image: { type: 'string' },
  ref: { type: 'string' },
  bundle: { type: 'string' },
  rootfs: { type: 'string' },
  cmd: { type: 'string' },
  env: { type: 'string', multiple: true },
  port: { type: 'string', multiple: true },
  memory: { type: 'string' },
  health: { type: 'string' },
  group: { type: 'string' },
  'group-order': { type: 'string' },
  // wordpress
  'web-port': { type: 'string' },
  'db-port': { type: 'string' },
  front: { type: 'boolean' },
  'frontend-port': { type: 'string' },
  rebuild: { type: 'boolean' },
  // web | kv
  mib: { type: 'string' },
  'dirty-mib-per-s': { type: 'string' },
  replace: { type: 'boolean' },
} as const;

type Form = 'container' | 'wordpress' | 'builtin';
const FLAGS: Record<Form, readonly string[]> = {
  container: ['on', 'json', 'image', 'ref', 'bundle', 'rootfs', 'cmd', 'env', 'port', 'memory', 'health', 'group', 'group-order'],
  wordpress: ['on', 'json', 'web-port', 'db-port', 'front', 'frontend-port', 'rebuild'],
  builtin: ['on', 'json', 'verbose', 'mib', 'dirty-mib-per-s', 'port', 'replace'],
};
const SYNOPSIS_OF: Record<Form, string> = { container: DEPLOY_ANY, wordpress: DEPLOY_WORDPRESS, builtin: DEPLOY_BUILTIN };

/** Which form the positionals ask for: `NAME`, `wordpress NAME`, or `web|kv NAME`. Pure. */
export function deployForm(positionals: readonly string[]): Form | null {
  if (positionals.length === 1) return 'container';
  if (positionals.length !== 2) return null;
  if (positionals[0] === 'wordpress') return 'wordpress';
  return (BUILTIN as readonly string[]).includes(positionals[0]!) ? 'builtin' : null;
}

export const deployCommand: Command = {
  name: 'deploy',
  synopsis: DEPLOY,
  summary: 'deploy a container from an image, bundle or rootfs, the WordPress workload, or one of Ferry\'s test workloads',
  details: [
    'Any container (NAME alone):',
    '  --image FILE|DIR   a docker/podman save archive (gzip allowed), an OCI archive or an OCI layout; --ref picks one of several images',
    '  --bundle DIR       an OCI bundle (its config.json, normalised)',
    '  --rootfs DIR       a root filesystem; give the command with --cmd',
    "  --cmd CMD          the command: words ('httpd -f -p 8080') or a JSON array; with --image it replaces the image's Cmd",
    '  --env K=V          set a variable (repeatable)',
    '  --port P           a TCP service port (repeatable); one port and no --health means a TCP check on it',
    '  --memory SIZE      memory limit: 512m, 1g, bytes (binary units)',
    '  --health SPEC      http:PORT:/path | tcp:PORT | redis:PORT | exec:CMD | none',
    '  --group G          label it a member of group G (annotation org.ferry.group), at --group-order N (default 0)',
    '  Ferry fills in the cgroup path, namespaces, CRIU options and stdio, refuses what CRIU cannot move (a terminal,',
    '  host bind mounts, devices, namespaces joined by path), copies it to HOST, starts it, waits until it is healthy,',
    '  then reports whether CRIU could checkpoint it as it runs.',
    'wordpress NAME: MariaDB (NAME-db) and WordPress (NAME-web) from Debian\'s packages (rootfs built once with mmdebstrap',
    '  and cached), group NAME, the database started first; --front puts HAProxy in front of NAME-web (port 80 by default);',
    '  --rebuild builds the root filesystems again.',
    'web|kv NAME: busybox httpd with a memory ballast (--mib, dirtied at --dirty-mib-per-s), or Redis with --mib of keys',
    '  (playbooks/workload.yml); --replace recreates it when it already runs on that host.',
    'A container runs on one host only: a NAME that exists on any host is refused, naming it.',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, OPTIONS, DEPLOY);
    const form = deployForm(positionals);
    if (!form) throw usageError(DEPLOY);
    const synopsis = SYNOPSIS_OF[form];
    const stray = Object.keys(values).filter((k) => !FLAGS[form].includes(k));
    if (stray.length) throw usageError(synopsis, `${stray.map((k) => `--${k}`).join(', ')} ${stray.length > 1 ? 'do' : 'does'} not go with this form of deploy`);
    if (!values.on) throw usageError(synopsis, 'missing --on HOST');
    const progress = values.json ? undefined : (l: string) => io.err(l);
    if (form === 'builtin') return deployBuiltin(positionals[0]!, positionals[1]!, values, io);
    if (form === 'wordpress') {
      const r = await deployWordpressUseCase(
        {
          name: positionals[1]!,
          host: values.on,
          webPort: optionalPort('web-port', values['web-port']),
          dbPort: optionalPort('db-port', values['db-port']),
          front: values.front,
          frontendPort: optionalPort('frontend-port', values['frontend-port']),
          rebuild: values.rebuild,
        },
        { config: loadConfig(), say: progress },
      );
      if (values.json) {
        io.out(JSON.stringify(r, null, 2));
        return 0;
      }
      for (const c of r.containers) printDeployed(c, io);
      io.out(`WordPress group ${r.group} runs on ${r.host}: ${r.url}${r.front ? ` (HAProxy in front of ${r.group}-web)` : ''}`);
      return 0;
    }
    const name = positionals[0]!;
    const sources = (['image', 'bundle', 'rootfs'] as const).filter((k) => values[k] !== undefined);
    if (sources.length !== 1) throw usageError(synopsis, sources.length ? `give one of --image, --bundle, --rootfs (got ${sources.map((s) => `--${s}`).join(' and ')})` : 'give what to run: --image, --bundle or --rootfs');
    if (values.ref !== undefined && !values.image) throw usageError(synopsis, '--ref goes with --image');
    if (values['group-order'] !== undefined && !values.group) throw usageError(synopsis, '--group-order goes with --group');
    const input: ContainerInput = values.image ? { image: values.image, ref: values.ref } : values.bundle ? { bundle: values.bundle } : { rootfs: values.rootfs! };
    const ports = (values.port ?? []).map((p) => parsePort(p));
    const r = await deployContainerUseCase(
      {
        name,
        host: values.on,
        input,
        options: {
          cmd: values.cmd !== undefined ? parseCommandLine(values.cmd) : undefined,
          env: values.env,
          ports: ports.length ? ports : undefined,
          memoryBytes: values.memory !== undefined ? parseMemorySize(values.memory) : undefined,
          health: values.health !== undefined ? parseHealth(values.health) : undefined,
        },
        group: values.group ? { name: values.group, order: numberFlag('group-order', values['group-order'], { min: 0, max: 999, integer: true }) ?? 0 } : undefined,
      },
      { config: loadConfig(), say: progress },
    );
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else printDeployed(r, io);
    return 0;
  },
};

function optionalPort(flag: string, v: string | undefined): number | undefined {
  return numberFlag(flag, v, { min: 1, max: 65535, integer: true });
}

/** What runs where, what Ferry filled in, and what CRIU would make of it. */
function printDeployed(c: DeployedContainer, io: Output): void {
  io.out(`${c.name} runs on ${c.host} (${c.address}), pid ${c.pid}, healthy after ${c.healthyAfterS.toFixed(1)} s: ${c.health} (${c.healthReason})`);
  if (c.ports.length) io.out(`  ports: ${c.ports.join(', ')}`);
  if (c.group) io.out(`  group: ${c.group.name}, order ${c.group.order}`);
  for (const ch of c.changes) io.out(`  filled in: ${ch}`);
  const m = c.movable;
  if ('error' in m) io.err(`ferry: warning: ${m.error}`);
  else if (m.blockers.length) for (const b of m.blockers) io.err(`ferry: warning: CRIU cannot checkpoint ${c.name} as it runs now: ${b.reason} [${b.code}]`);
  else io.out(`  CRIU: nothing it cannot dump; a checkpoint writes about ${formatBytes(m.dumpBytes)} of pages (${m.processes} ${m.processes === 1 ? 'process' : 'processes'})`);
}

/** `ferry deploy web|kv NAME`: Ferry's own test workloads through playbooks/workload.yml, as before. */
async function deployBuiltin(workload: string, name: string, values: { on?: string; mib?: string; 'dirty-mib-per-s'?: string; port?: string[]; replace?: boolean; json?: boolean; verbose?: boolean }, io: Output): Promise<number> {
  validateName('container', name);
  validateName('host', values.on!);
  if ((values.port?.length ?? 0) > 1) throw usageError(DEPLOY_BUILTIN, `one --port for a ${workload} container`);
  const extraVars: Record<string, string | number | boolean> = { workload, name };
  const mib = numberFlag('mib', values.mib, { min: 1 });
  if (mib !== undefined) extraVars[workload === 'kv' ? 'kv_mib' : 'ballast_mib'] = mib;
  const rate = numberFlag('dirty-mib-per-s', values['dirty-mib-per-s'], { min: 0 });
  if (rate !== undefined) extraVars.dirty_mib_per_s = rate;
  const port = numberFlag('port', values.port?.[0], { min: 1, max: 65535, integer: true });
  if (port !== undefined) extraVars.port = port;
  if (values.replace) extraVars.replace = true;
  const config = loadConfig();
  const file = await loadHosts(config);
  const on = values.on!;
  findHost(file, on);
  await runSteps(io, { command: 'deploy', verbose: values.verbose, logDir: config.labDir, plain: values.json }, async (say) => {
    say(`looking for ${name} on ${file.hosts.length} ${file.hosts.length === 1 ? 'host' : 'hosts'}`);
    // One host per container: a copy elsewhere would make two live containers of one name.
    const elsewhere = (await hostsRunning(config, file, name)).filter((c) => c.host !== on);
    if (elsewhere.length) {
      throw new FerryError(ErrorCode.ContainerExists, `${name} already exists on ${elsewhere.map((c) => `${c.host} (${c.status})`).join(', ')}: a container runs on one host only; migrate it, or remove it there first`);
    }
    say(`deploying the ${workload} container ${name} on ${on} (ansible-playbook workload.yml)`);
    const summary = await deployWorkload(file, on, extraVars);
    if (summary && !values.json) io.err(summary);
  });
  if (values.json) io.out(JSON.stringify({ container: name, workload, host: values.on }));
  else io.out(`${workload} container ${name} runs on ${values.on}`);
  return 0;
}

const RM = 'ferry rm NAME... [--on HOST] [--force] [--json]';

export const rmCommand: Command = {
  name: 'rm',
  synopsis: RM,
  summary: 'stop and remove containers with their files (and their HAProxy front), wherever they run',
  details: [
    '--on HOST   look only on HOST (default: every host of the inventory)',
    "--force     remove even while a migration of it is unfinished (else: run 'ferry recover' first), or while it is paused",
    'exit status: 0 all removed, 1 a name was found nowhere or a host failed, 2 usage',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { on: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } }, RM);
    if (positionals.length === 0) throw usageError(RM);
    const r = await removeContainersUseCase({ names: positionals, on: values.on, force: values.force }, { config: loadConfig(), say: values.json ? undefined : (l) => io.err(l) });
    if (values.json) io.out(JSON.stringify(r, null, 2));
    else {
      for (const x of r.removed) io.out(`removed ${x.name} from ${x.host}${x.status ? ` (was ${x.status})` : ' (files left by an earlier run)'}${x.front ? ', and its HAProxy front' : ''}`);
      for (const w of r.warnings) io.err(`ferry: warning: ${w}`);
      for (const n of r.notFound) io.err(`ferry: no host${values.on ? ` (looked on ${values.on})` : ''} has a container named ${n} [${ErrorCode.ContainerNotFound}]`);
    }
    return r.notFound.length ? 1 : 0;
  },
};
