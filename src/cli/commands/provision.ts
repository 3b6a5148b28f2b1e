import { loadHosts } from '../../app/hosts.ts';
import { loadConfig } from '../../config.ts';
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
  details: ['--limit HOST  only this host', "--json      the playbook's recap per host on stdout ({host: {ok, changed, unreachable, failed}})", VERBOSE_HELP].join('\n'),
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

const FRONT = 'ferry front NAME --on HOST [--port P] [--frontend-port F] [--verbose] [--json]';

export const frontCommand: Command = {
  name: 'front',
  synopsis: FRONT,
  summary: 'put HAProxy in front of a container (playbooks/haproxy.yml); migrations then hold clients through the freeze',
  details: [
    "--port P            the container's port (default 8080)",
    "--frontend-port F   HAProxy's port, where clients connect (default 80)",
    '--json              {container, host, frontendPort} on stdout',
    VERBOSE_HELP,
  ].join('\n'),
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
