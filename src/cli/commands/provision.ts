import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { runPlaybook } from '../../infra/ansible.ts';
import { findHost, loadHostsFile } from '../../hosts/inventory.ts';
import { validateName } from '../../util/names.ts';
import { parseFlags, type Output } from '../main.ts';

export async function provisionCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseFlags(args, { limit: { type: 'string' } });
  const config = loadConfig();
  const file = await loadHostsFile(config.hostsFile);
  if (values.limit) findHost(file, validateName('host', values.limit));
  const r = await runPlaybook('provision.yml', file.inventoryFile, { limit: values.limit, onLine: (l) => io.err(l) });
  for (const [h, rc] of Object.entries(r.recap)) io.out(`${h}: ok=${rc.ok} changed=${rc.changed} failed=${rc.failed}`);
  return 0;
}

const WORKLOADS = ['web', 'kv'] as const;

export async function deployCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    on: { type: 'string' },
    mib: { type: 'string' },
    'dirty-mib-per-s': { type: 'string' },
    port: { type: 'string' },
    replace: { type: 'boolean' },
  });
  const [workload, name] = positionals;
  if (!WORKLOADS.includes(workload as (typeof WORKLOADS)[number]) || !name || !values.on) {
    throw new FerryError(ErrorCode.UsageError, 'usage: ferry deploy web|kv NAME --on HOST [--mib N] [--dirty-mib-per-s R] [--port P] [--replace]');
  }
  validateName('container', name);
  const config = loadConfig();
  const file = await loadHostsFile(config.hostsFile);
  findHost(file, validateName('host', values.on));
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new FerryError(ErrorCode.UsageError, `--${flag} must be a non-negative number (got '${v}')`);
    return n;
  };
  const extraVars: Record<string, string | number | boolean> = { workload: workload!, name };
  const mib = num('mib', values.mib);
  if (mib !== undefined) extraVars[workload === 'kv' ? 'kv_mib' : 'ballast_mib'] = mib;
  const rate = num('dirty-mib-per-s', values['dirty-mib-per-s']);
  if (rate !== undefined) extraVars.dirty_mib_per_s = rate;
  const port = num('port', values.port);
  if (port !== undefined) extraVars.port = port;
  if (values.replace) extraVars.replace = true;
  await runPlaybook('workload.yml', file.inventoryFile, { limit: values.on, extraVars, onLine: (l) => io.err(l) });
  io.out(`${workload} container ${name} runs on ${values.on}`);
  return 0;
}

/** `ferry front NAME --on HOST`: HAProxy in front of a container (playbooks/haproxy.yml). */
export async function frontCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseFlags(args, { on: { type: 'string' }, port: { type: 'string', default: '8080' }, 'frontend-port': { type: 'string', default: '80' } });
  const [name] = positionals;
  if (!name || !values.on) throw new FerryError(ErrorCode.UsageError, 'usage: ferry front NAME --on HOST [--port 8080] [--frontend-port 80]');
  validateName('container', name);
  const config = loadConfig();
  const file = await loadHostsFile(config.hostsFile);
  findHost(file, validateName('host', values.on));
  await runPlaybook('haproxy.yml', file.inventoryFile, { limit: values.on, extraVars: { name, port: Number(values.port), frontend_port: Number(values['frontend-port']) }, onLine: (l) => io.err(l) });
  io.out(`HAProxy fronts ${name} on ${values.on}:${values['frontend-port']}`);
  return 0;
}
