import { deployWorkload, hostsRunning } from '../../app/lab.ts';
import { loadHosts } from '../../app/hosts.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { findHost } from '../../hosts/inventory.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { describePki, ensureHostsPki } from '../../infra/pki.ts';
import { validateName } from '../../util/names.ts';
import { count } from '../../util/table.ts';
import { numberFlag, parseFlags, usageError, type Command } from '../command.ts';
import { runSteps, VERBOSE_HELP } from '../steps.ts';

export const provisionCommand: Command = {
  name: 'provision',
  synopsis: 'ferry provision [--limit HOST] [--verbose] [--json]',
  summary: "run playbooks/provision.yml on the inventory (CRIU >= 4.2, runc, rsync, haproxy, Ferry's directories, TLS certificates, the page-port guard)",
  details: VERBOSE_HELP,
  async run(args, io) {
    const { values } = parseFlags(args, { limit: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, this.synopsis);
    const config = loadConfig();
    const file = await loadHosts(config);
    if (values.limit) findHost(file, validateName('host', values.limit));
    const { value: r } = await runSteps(io, { command: 'provision', verbose: values.verbose, logDir: config.labDir, plain: values.json }, async (say, note) => {
      // The certificates provision installs are made (or renewed) here, on the controller.
      say('TLS certificates for the hosts (made on the controller)');
      const pki = await ensureHostsPki(config.pkiDir, file);
      for (const l of describePki(pki)) note(`  ${l}`);
      say(`ansible-playbook provision.yml on ${values.limit ?? `${count(file.hosts.length, 'host')}`}`);
      return runPlaybook('provision.yml', file.inventoryFile, { limit: values.limit });
    });
    if (values.json) io.out(JSON.stringify(r.recap, null, 2));
    else for (const [h, rc] of Object.entries(r.recap)) io.out(`${h}: ok=${rc.ok} changed=${rc.changed} failed=${rc.failed}`);
    return 0;
  },
};

const WORKLOADS = ['web', 'kv'] as const;
const DEPLOY = 'ferry deploy web|kv NAME --on HOST [--mib N] [--dirty-mib-per-s R] [--port P] [--replace] [--verbose] [--json]';

export const deployCommand: Command = {
  name: 'deploy',
  synopsis: DEPLOY,
  summary: "deploy one of Ferry's workload containers (playbooks/workload.yml)",
  details: [
    'web   busybox httpd serving /counter and /instance, with a memory ballast (--mib, incompressible) dirtied at --dirty-mib-per-s',
    'kv    Redis with --mib of keys',
    '--replace   recreate the container when it already runs on that host',
    'A container runs on one host only: a NAME that runs on another host is refused, naming it.',
    VERBOSE_HELP,
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { on: { type: 'string' }, mib: { type: 'string' }, 'dirty-mib-per-s': { type: 'string' }, port: { type: 'string' }, replace: { type: 'boolean' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } },
      DEPLOY,
    );
    const [workload, name] = positionals;
    if (!WORKLOADS.includes(workload as (typeof WORKLOADS)[number]) || !name || !values.on) throw usageError(DEPLOY);
    validateName('container', name);
    validateName('host', values.on);
    const extraVars: Record<string, string | number | boolean> = { workload: workload!, name };
    const mib = numberFlag('mib', values.mib, { min: 1 });
    if (mib !== undefined) extraVars[workload === 'kv' ? 'kv_mib' : 'ballast_mib'] = mib;
    const rate = numberFlag('dirty-mib-per-s', values['dirty-mib-per-s'], { min: 0 });
    if (rate !== undefined) extraVars.dirty_mib_per_s = rate;
    const port = numberFlag('port', values.port, { min: 1, max: 65535, integer: true });
    if (port !== undefined) extraVars.port = port;
    if (values.replace) extraVars.replace = true;
    const config = loadConfig();
    const file = await loadHosts(config);
    const on = values.on;
    findHost(file, on);
    await runSteps(io, { command: 'deploy', verbose: values.verbose, logDir: config.labDir, plain: values.json }, async (say) => {
      say(`looking for ${name} on ${count(file.hosts.length, 'host')}`);
      // One host per container: a copy elsewhere would make two live containers of one name.
      const elsewhere = (await hostsRunning(config, file, name)).filter((c) => c.host !== on);
      if (elsewhere.length) {
        throw new FerryError(ErrorCode.ContainerExists, `${name} already exists on ${elsewhere.map((c) => `${c.host} (${c.status})`).join(', ')}: a container runs on one host only; migrate it, or remove it there first`);
      }
      say(`deploying the ${workload} container ${name} on ${on} (ansible-playbook workload.yml)`);
      await deployWorkload(file, on, extraVars);
    });
    if (values.json) io.out(JSON.stringify({ container: name, workload, host: values.on }));
    else io.out(`${workload} container ${name} runs on ${values.on}`);
    return 0;
  },
};

const FRONT = 'ferry front NAME --on HOST [--port P] [--frontend-port F] [--verbose] [--json]';

export const frontCommand: Command = {
  name: 'front',
  synopsis: FRONT,
  summary: 'put HAProxy in front of a container (playbooks/haproxy.yml); migrations then hold clients through the freeze',
  details: VERBOSE_HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { on: { type: 'string' }, port: { type: 'string', default: '8080' }, 'frontend-port': { type: 'string', default: '80' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, FRONT);
    const [name] = positionals;
    if (!name || !values.on) throw usageError(FRONT);
    validateName('container', name);
    validateName('host', values.on);
    const port = numberFlag('port', values.port, { min: 1, max: 65535, integer: true })!;
    const frontend = numberFlag('frontend-port', values['frontend-port'], { min: 1, max: 65535, integer: true })!;
    const config = loadConfig();
    const file = await loadHosts(config);
    findHost(file, values.on);
    const on = values.on;
    await runSteps(io, { command: 'front', verbose: values.verbose, logDir: config.labDir, plain: values.json }, async (say) => {
      say(`putting HAProxy in front of ${name} on ${on} (ansible-playbook haproxy.yml)`);
      await runPlaybook('haproxy.yml', file.inventoryFile, { limit: on, extraVars: { name, port, frontend_port: frontend } });
    });
    if (values.json) io.out(JSON.stringify({ container: name, host: values.on, frontendPort: frontend }));
    else io.out(`HAProxy fronts ${name} on ${values.on}:${frontend}`);
    return 0;
  },
};
