import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDownResult } from '../../../src/cli/commands/lab.ts';
import { main, type Output } from '../../../src/cli/main.ts';

/**
 * `--json` of the commands that report: each is accepted, documented in the command's usage, and
 * (where it can run without a lab, a cloud or root) prints one JSON document on stdout while its
 * progress stays on stderr. Terraform and ansible-playbook are fake programs first on PATH that log
 * their arguments and print what the real ones would; openssl and ssh-keygen are the real ones.
 */
function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = collect();
  const code = await main(args, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';
const VARS = ['FERRY_HOSTS_FILE', 'FERRY_LAB_DIR', 'FERRY_PKI_DIR', 'FERRY_INVENTORY', 'FERRY_VAULT_PASSWORD_FILE', 'PATH'];

describe('--json', () => {
  let dir = '';
  let bin = '';
  const saved: Record<string, string | undefined> = {};
  /** What the fake programs were run with, one line per run. */
  const calls = (tool: string) => (existsSync(path.join(bin, `${tool}.calls`)) ? readFileSync(path.join(bin, `${tool}.calls`), 'utf8').trim().split('\n') : []);

  function fake(name: string, body: string): void {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${file}.calls'\n${body}\n`);
    chmodSync(file, 0o755);
  }

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-json-'));
    bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const host = (name: string, address: string) => ({ name, address, port: 22, user: 'root', privateKeyFile: path.join(dir, 'id_ed25519'), hostKey: KEY });
    writeFileSync(
      path.join(dir, 'hosts.json'),
      JSON.stringify({ environment: 'local', knownHostsFile: path.join(dir, 'known_hosts'), inventoryFile: path.join(dir, 'inventory.ini'), hosts: [host('lab-1', '192.0.2.11'), host('lab-2', '192.0.2.12')] }),
    );
    for (const k of VARS) saved[k] = process.env[k];
    for (const k of VARS.slice(0, -1)) delete process.env[k];
    process.env.FERRY_HOSTS_FILE = path.join(dir, 'hosts.json');
    process.env.FERRY_LAB_DIR = path.join(dir, 'lab');
    process.env.PATH = `${bin}:${saved.PATH ?? '/usr/bin:/bin'}`;
    fake('ansible-playbook', "printf 'PLAY RECAP *****\\nlab-1 : ok=12 changed=3 unreachable=0 failed=0 skipped=1\\nlab-2 : ok=12 changed=0 unreachable=0 failed=0\\n'");
    // `state list` names one resource, so destroy runs; every other call succeeds quietly.
    fake('terraform', 'case "$*" in *"state list"*) printf \'aws_instance.host["aws-1"]\\n\' ;; esac');
  });

  afterAll(() => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('front --json prints the container, host and HAProxy port as JSON', async () => {
    const r = await run(['front', 'web1', '--on', 'lab-1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ container: 'web1', host: 'lab-1', frontendPort: 80 });
    expect(r.stderr).toContain('putting HAProxy in front of web1 on lab-1');
    const call = calls('ansible-playbook').at(-1)!;
    expect(call).toMatch(/haproxy\.yml --limit lab-1 --extra-vars \{"name":"web1","port":8080,"frontend_port":80\}$/);
  });

  it('provision --json prints the playbook recap per host as JSON', async () => {
    const r = await run(['provision', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      'lab-1': { ok: 12, changed: 3, unreachable: 0, failed: 0 },
      'lab-2': { ok: 12, changed: 0, unreachable: 0, failed: 0 },
    });
    expect(r.stderr).toContain('TLS certificates for the hosts');
    expect(calls('ansible-playbook').at(-1)).toMatch(/provision\.yml$/);
  });

  it('env create documents --json in its usage, and env destroy --json says what was destroyed', async () => {
    const help = await run(['env', '--help']);
    expect(help.stdout).toContain('[--no-prepare] [--json] | ferry env list [--json] | ferry env destroy NAME [--json]');
    const envDir = path.join(dir, 'lab', 'envs', 'e1');
    mkdirSync(envDir, { recursive: true });
    writeFileSync(path.join(envDir, 'env.json'), JSON.stringify({ name: 'e1', provider: 'aws', hosts: ['aws-1'], vars: {}, createdAt: '2026-12-01T10:00:00.000Z' }));
    const r = await run(['env', 'destroy', 'e1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ name: 'e1', provider: 'aws', hosts: ['aws-1'], dir: envDir, destroyed: true });
    expect(calls('terraform').some((c) => / destroy -auto-approve /.test(c))).toBe(true);
    expect(existsSync(envDir)).toBe(false);
  });

  it('env destroy --json without a name is a usage error about the name, not the flag', async () => {
    const r = await run(['env', 'destroy', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('destroy needs NAME');
    expect(r.stdout).toBe('');
  });

  // `lab down` needs root and takes down whatever lab this machine has: only its usage and its JSON's shape are checked.
  it('lab down documents --json, and its JSON names the lab that was removed and the log', async () => {
    const help = await run(['lab', '--help']);
    expect(help.stdout).toContain('ferry lab down [--verbose] [--json]');
    expect(help.stdout).toContain('what was removed (down)');
    expect(labDownResult({ provider: 'local', topology: 'flat', hosts: ['lab-1', 'lab-2'] }, '/var/lib/ferry-lab/logs/lab-down.log')).toEqual({
      removed: { provider: 'local', topology: 'flat', hosts: ['lab-1', 'lab-2'] },
      log: '/var/lib/ferry-lab/logs/lab-down.log',
    });
    expect(labDownResult(undefined, '/tmp/l.log')).toEqual({ removed: null, log: '/tmp/l.log' });
  });

  it('bench, provision and front list --json in their usage', async () => {
    for (const [cmd, synopsis] of [
      ['bench', '[--out DIR] [--verbose] [--json]'],
      ['bench', 'ferry bench --unshape [--json]'],
      ['provision', 'ferry provision [--limit HOST] [--verbose] [--json]'],
      ['front', '[--frontend-port F] [--verbose] [--json]'],
    ] as const) {
      const r = await run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(synopsis);
      expect(r.stdout).toMatch(/^--json +\S/m);
    }
  });
});
