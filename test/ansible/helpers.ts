import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../../src/config.ts';
import { hostsFile, onHost } from '../helpers/lab.ts';

/** The pid of a container's init on a lab host, or null: the same pid before and after means the container was never checkpointed or restored. */
export async function runcPid(host: string, name: string): Promise<number | null> {
  const out = await onHost(host, ['runc', '--root', '/run/ferry/runc', 'state', name], { allowFail: true });
  return out ? (JSON.parse(out) as { pid: number }).pid : null;
}

/**
 * An inventory Ferry did not render: a copy of the lab's own (its hosts are in group `ferry`) in a
 * directory `<tmp>/inventory`, with `group_vars/ferry.yml` and `host_vars/<host>.yml` as given (JSON
 * is YAML). Hook playbooks go beside it, in `<tmp>/hooks` (named `../hooks/x.yml`, relative to the
 * inventory): inside an inventory directory Ansible would read them as inventory sources.
 */
export async function inventoryDir(vars: { group?: Record<string, unknown>; hosts?: Record<string, Record<string, unknown>> }): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-inv-')), 'inventory');
  await mkdir(dir);
  // Not `*.ini`: Ansible skips that extension inside an inventory directory (INVENTORY_IGNORE_EXTS).
  await copyFile((await hostsFile()).inventoryFile, path.join(dir, 'hosts'));
  await mkdir(path.join(dir, 'group_vars'));
  await mkdir(path.join(dir, 'host_vars'));
  if (vars.group) await writeFile(path.join(dir, 'group_vars', 'ferry.yml'), JSON.stringify(vars.group));
  for (const [h, v] of Object.entries(vars.hosts ?? {})) await writeFile(path.join(dir, 'host_vars', `${h}.yml`), JSON.stringify(v));
  return dir;
}

/** A playbook on the controller (localhost, connection local) with these tasks (YAML, indented for `tasks:`). */
export async function controllerPlaybook(file: string, tasks: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n${tasks}`);
  return file;
}

/** Tasks of a hook that writes what it got (its ferry_ variables) to `out` as JSON. */
export function recordingTasks(out: string): string {
  return (
    `    - ansible.builtin.copy:\n        dest: ${JSON.stringify(out)}\n` +
    `        content: "{{ {'hook': ferry_hook, 'id': ferry_migration_id, 'container': ferry_container, 'source': ferry_source, 'target': ferry_target, 'method': ferry_method, ` +
    `'outcome': ferry_outcome | default(None), 'report': ferry_report | default(None), 'error': ferry_error | default(None)} | to_json }}"\n`
  );
}

/** `ferry …` as a user runs it, with extra environment (FERRY_INVENTORY …). */
export async function ferryWith(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), ...args], { reject: false, env, maxBuffer: 16 << 20 });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `ferry start --no-lab` (the console chat) with a script on stdin, as `npm start` runs it without Slack. */
export async function consoleChat(env: Record<string, string>, script: string[]): Promise<{ code: number; out: string; err: string }> {
  const clean = { ...process.env, ...env };
  for (const k of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'REDIS_URL', 'FERRY_POLICY_FILE']) delete clean[k];
  const r = await execa(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), 'start', '--no-lab'], { reject: false, env: clean, extendEnv: false, input: [...script, ''].join('\n') });
  return { code: r.exitCode ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * Something else listening on `port` on a lab host (a real fault, not a stand-in), once the host
 * sees it listening; it stops when the returned function is called.
 */
export async function squatPort(host: string, port: number): Promise<() => void> {
  const squatter = `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',${port}))\ns.listen()\ntime.sleep(600)`;
  const p: ChildProcess = spawn('nsenter', [`--net=/run/netns/ferry-${host}`, 'python3', '-c', squatter], { stdio: 'ignore' });
  const stop = () => p.kill('SIGKILL');
  for (let i = 0; i < 100; i++) {
    if ((await onHost(host, ['ss', '-Hltn', `sport = :${port}`])).trim()) return stop;
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`the squatter never listened on ${host}:${port}`);
}
