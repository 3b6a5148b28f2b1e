import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { cloudEnvironment, defaultHosts, envDir, listEnvironments, parseCloudProvider, readEnvironment, removeEnvironment, writeEnvironment } from '../../infra/environments.ts';
import { CloudEnvironment, parseVar } from '../../infra/providers/CloudEnvironment.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { ensureHostsPki } from '../../infra/pki.ts';
import { renderTable } from '../../util/table.ts';
import { validateName } from '../../util/names.ts';
import { numberFlag, parseFlags, usageError, type Command } from '../command.ts';

const SYNOPSIS = 'ferry env create NAME --provider aws|gcp|two-clouds [--hosts N] [--var k=v]... [--plan-only] [--no-prepare] [--json] | ferry env list [--json] | ferry env destroy NAME [--json]';

/**
 * `ferry env`: cloud environments, each a Terraform module with its own state and keys in its own
 * directory. (The lab is `ferry lab`: one per controller.) Credentials come from the providers'
 * standard environment variables (AWS_*, GOOGLE_*), never from Ferry or chat.
 */
export const envCommand: Command = {
  name: 'env',
  synopsis: SYNOPSIS,
  readsInventory: false,
  summary: 'create, list or destroy cloud environments (terraform/aws, terraform/gcp, terraform/two-clouds)',
  details: [
    'create     keys made on the controller (SSH, host keys, WireGuard), terraform init + apply, hosts rendered',
    '           to <env dir>/hosts.json: use it with FERRY_HOSTS_FILE (and its inventory with ansible)',
    '           then the hosts are prepared: the CA\'s certificates (CRIU\'s TLS) and ansible-playbook cloud-host.yml',
    '           (packages, CRIU >= 4.2, WireGuard, provision.yml)',
    '--plan-only  terraform plan instead of apply (nothing is created)',
    '--no-prepare  apply only; prepare later with ansible-playbook -i <env dir>/inventory.ini playbooks/cloud-host.yml',
    '--hosts N  hosts per site (default 1: aws-1, gcp-1)',
    "--var k=v  any variable of the module (region, instance_type, project, …), never a key Ferry makes",
    'list       the environments and their hosts',
    'destroy    terraform destroy, then the environment\'s directory (state, keys) is removed',
    '--json     on stdout: the hosts file (create), the plan\'s outcome (create --plan-only), the environments (list),',
    '           what was destroyed (destroy); progress stays on stderr',
    'Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile), GOOGLE_APPLICATION_CREDENTIALS.',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { provider: { type: 'string' }, hosts: { type: 'string' }, var: { type: 'string', multiple: true }, 'plan-only': { type: 'boolean' }, 'no-prepare': { type: 'boolean' }, json: { type: 'boolean' } },
      SYNOPSIS,
    );
    const config = loadConfig();
    const say = (m: string) => io.err(m);
    switch (positionals[0]) {
      case 'create': {
        const name = positionals[1];
        if (!name || !values.provider) throw usageError(SYNOPSIS, 'create needs NAME and --provider');
        validateName('environment', name);
        if (name === 'local' || name === 'qemu') throw new FerryError(ErrorCode.UsageError, `'${name}' is the lab's name: use ferry lab up --provider ${name}`);
        const provider = parseCloudProvider(values.provider);
        const count = numberFlag('hosts', values.hosts, { min: 1, max: 20, integer: true }) ?? 1;
        const vars = Object.fromEntries((values.var ?? []).map(parseVar));
        for (const k of Object.keys(vars)) if (CloudEnvironment.reserved(k)) throw new FerryError(ErrorCode.UsageError, `--var ${k}: Ferry makes that one itself`);
        const existing = await readEnvironment(config, name).catch(() => null);
        if (existing && existing.provider !== provider) throw new FerryError(ErrorCode.UsageError, `environment ${name} exists with provider ${existing.provider}`);
        const rec = existing ? { ...existing, vars: { ...existing.vars, ...vars } } : { name, provider, hosts: defaultHosts(provider, count), vars, createdAt: new Date().toISOString() };
        await writeEnvironment(config, rec);
        const env = cloudEnvironment(config, rec, say);
        if (values['plan-only']) {
          const plan = await env.plan({ hosts: rec.hosts });
          if (values.json) io.out(JSON.stringify({ name, provider, hosts: rec.hosts, changes: plan.changes, dir: envDir(config, name) }, null, 2));
          else io.out(`${name} (${provider}): terraform plan ${plan.changes ? 'would create or change resources' : 'has no changes'} for ${rec.hosts.join(', ')}; nothing was created`);
          return 0;
        }
        const file = await env.up({ hosts: rec.hosts });
        if (!values['no-prepare']) {
          // The environment's CA and each host's certificate (CRIU's TLS), then the hosts brought to
          // what Ferry needs (packages, CRIU, WireGuard, provision.yml): one command to usable hosts.
          await ensureHostsPki(config.pkiDir, file);
          say(`preparing ${rec.hosts.join(', ')} (ansible-playbook cloud-host.yml)`);
          await runPlaybook('cloud-host.yml', file.inventoryFile, { timeoutMs: 60 * 60_000, onLine: (l) => say(`  ${l}`) });
        }
        if (values.json) io.out(JSON.stringify(file, null, 2));
        else {
          io.out(renderTable(['host', 'cloud', 'address', 'peer address'], file.hosts.map((h) => [h.name, h.cloud ?? '', h.address, h.peerAddress ?? h.address])));
          io.out(`hosts file: ${envDir(config, name)}/hosts.json (FERRY_HOSTS_FILE=${envDir(config, name)}/hosts.json ferry hosts)`);
        }
        return 0;
      }
      case 'list': {
        const envs = await listEnvironments(config);
        if (values.json) io.out(JSON.stringify(envs, null, 2));
        else if (envs.length === 0) io.out('no environments (ferry env create NAME --provider aws|gcp|two-clouds); the lab: ferry lab status');
        else io.out(renderTable(['name', 'provider', 'hosts', 'created', 'directory'], envs.map((e) => [e.name, e.provider, e.hosts.join(', '), e.createdAt, envDir(config, e.name)])));
        return 0;
      }
      case 'destroy': {
        const name = positionals[1];
        if (!name) throw usageError(SYNOPSIS, 'destroy needs NAME');
        const rec = await readEnvironment(config, name);
        await cloudEnvironment(config, rec, say).down();
        await removeEnvironment(config, name);
        if (values.json) io.out(JSON.stringify({ name, provider: rec.provider, hosts: rec.hosts, dir: envDir(config, name), destroyed: true }, null, 2));
        else io.out(`environment ${name} destroyed`);
        return 0;
      }
      default:
        throw usageError(SYNOPSIS, positionals[0] ? `unknown env command '${positionals[0]}'` : 'which env command?');
    }
  },
};
