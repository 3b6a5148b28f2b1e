import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, USAGE, main, type Output } from '../../../src/cli/main.ts';

function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    isTTY: false,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';

describe('main', () => {
  let dir = '';
  const saved: Record<string, string | undefined> = {};
  const FERRY_VARS = ['FERRY_HOSTS_FILE', 'FERRY_INVENTORY', 'FERRY_VAULT_PASSWORD_FILE', 'FERRY_LAB_DIR', 'FERRY_LAB_SUBNET', 'FERRY_LAB_BRIDGE', 'FERRY_COMMAND_TIMEOUT_S', 'FERRY_HEALTH_TIMEOUT_S'];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    const hostsFile = path.join(dir, 'hosts.json');
    const host = (name: string, address: string) => ({ name, address, port: 22, user: 'root', privateKeyFile: path.join(dir, 'id_ed25519'), hostKey: KEY });
    writeFileSync(
      hostsFile,
      JSON.stringify({
        environment: 'local',
        knownHostsFile: path.join(dir, 'known_hosts'),
        inventoryFile: path.join(dir, 'inventory.ini'),
        hosts: [host('lab-1', '10.247.0.11'), host('lab-2', '10.247.0.12')],
      }),
    );
    for (const k of FERRY_VARS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.FERRY_HOSTS_FILE = hostsFile;
  });

  afterAll(() => {
    for (const k of FERRY_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('help prints the usage and returns 0', async () => {
    for (const cmd of ['help', '--help', '-h']) {
      const io = collect();
      expect(await main([cmd], io)).toBe(0);
      expect(io.stdout()).toBe(USAGE);
      expect(io.stderr()).toBe('');
    }
  });

  it('no command prints the usage and returns 0', async () => {
    const io = collect();
    expect(await main([], io)).toBe(0);
    expect(io.stdout()).toContain('Usage:');
  });

  it('--version prints the package version', async () => {
    const io = collect();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^ferry \d+\.\d+\.\d+/);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints its own usage and returns 0, touching nothing', async (name) => {
    const io = collect();
    expect(await main([name, '--help'], io)).toBe(0);
    expect(io.stdout()).toContain(`usage: ferry ${name}`);
    expect(io.stderr()).toBe('');
  });

  it.each(COMMANDS.map((c) => [c.name, c.readsInventory !== false] as const))('%s --help lists --inventory and --vault-password-file when it reads the hosts (%s)', async (name, reads) => {
    const io = collect();
    expect(await main([name, '--help'], io)).toBe(0);
    expect(io.stdout().includes('--inventory FILE|DIR')).toBe(reads);
    expect(io.stdout().includes('--vault-password-file FILE')).toBe(reads);
  });

  it('only the lab and cloud environments read no inventory', () => {
    expect(COMMANDS.filter((c) => c.readsInventory === false).map((c) => c.name)).toEqual(['lab', 'env']);
  });

  it('--inventory wins over FERRY_INVENTORY, before or after the command, a relative path from the working directory, for this run only', async () => {
    process.env.FERRY_INVENTORY = path.join(dir, 'env-inventory');
    try {
      for (const argv of [['--inventory', 'no/such/flag-inventory', 'hosts'], ['hosts', '--inventory=no/such/flag-inventory']]) {
        const io = collect();
        expect(await main(argv, io)).toBe(1);
        expect(io.stderr()).toContain(`no inventory at ${path.resolve('no/such/flag-inventory')}:`);
        expect(io.stderr()).toContain('[ferry_inventory_failed]');
        expect(process.env.FERRY_INVENTORY).toBe(path.join(dir, 'env-inventory'));
      }
      const io = collect();
      expect(await main(['ps'], io)).toBe(1);
      expect(io.stderr()).toContain(`no inventory at ${path.join(dir, 'env-inventory')}:`);
    } finally {
      delete process.env.FERRY_INVENTORY;
    }
  });

  it('--inventory over a hosts file: the hosts come from the inventory', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--inventory', path.join(dir, 'missing-inventory')], io)).toBe(1);
    expect(io.stderr()).toContain(`no inventory at ${path.join(dir, 'missing-inventory')}:`);
    expect(process.env.FERRY_INVENTORY).toBeUndefined();
  });

  it('a bad --inventory is a usage error (2), as is one given to a command that reads no inventory', async () => {
    for (const [argv, msg] of [
      [['hosts', '--inventory'], '--inventory needs a value'],
      [['--inventory', '/a', 'hosts', '--inventory', '/b'], '--inventory is given twice'],
      [['lab', 'status', '--inventory', '/etc/ansible/fleet'], 'ferry lab makes its own hosts and reads no inventory: --inventory does not apply'],
      [['env', 'list', '--vault-password-file', '/v'], 'ferry env makes its own hosts and reads no inventory: --vault-password-file does not apply'],
    ] as const) {
      const io = collect();
      expect(await main([...argv], io)).toBe(2);
      expect(io.stderr()).toContain(msg);
      expect(io.stderr()).toContain('[ferry_usage]');
    }
  });

  it('every command is listed in the usage', () => {
    for (const c of COMMANDS) expect(USAGE).toContain(`  ${c.name} `);
  });

  it('an unknown command returns 2 with a message and the usage', async () => {
    const io = collect();
    expect(await main(['teleport'], io)).toBe(2);
    expect(io.stderr()).toContain("ferry: unknown command 'teleport'");
    expect(io.stderr()).toContain('Usage:');
    expect(io.stdout()).toBe('');
  });

  it('migrate without arguments is a usage error (2)', async () => {
    const io = collect();
    expect(await main(['migrate'], io)).toBe(2);
    expect(io.stderr()).toContain('usage: ferry migrate (NAME | --group GROUP) --from HOST --to (HOST | group:NAME)');
    expect(io.stderr()).toContain('[ferry_usage]');
  });

  it('migrate --group --dry-run is a usage error (2), never a move', async () => {
    const io = collect();
    expect(await main(['migrate', '--group', 'blog', '--from', 'lab-1', '--to', 'lab-2', '--dry-run'], io)).toBe(2);
    expect(io.stderr()).toContain('--dry-run does not go with --group');
    expect(io.stderr()).toContain('[ferry_usage]');
  });

  it('migrate without --to is a usage error (2)', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1'], io)).toBe(2);
    expect(io.stderr()).toContain('[ferry_usage]');
  });

  it('migrate with an unknown flag is a usage error naming it (2)', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--fast'], io)).toBe(2);
    expect(io.stderr()).toContain('--fast');
    expect(io.stderr()).toContain('[ferry_usage]');
  });

  it('migrate with an invalid container name returns 2 before touching any host', async () => {
    const io = collect();
    expect(await main(['migrate', 'Web1', '--from', 'a', '--to', 'b'], io)).toBe(2);
    expect(io.stderr()).toContain("invalid container name 'Web1'");
    expect(io.stderr()).toContain('[ferry_invalid_name]');
    expect(io.stdout()).toBe('');
  });

  it('migrate with an invalid host name returns 2', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab_1', '--to', 'lab-2'], io)).toBe(2);
    expect(io.stderr()).toContain("invalid host name 'lab_1'");
  });

  it('migrate from an unknown host returns 1, listing the known hosts', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'nope', '--to', 'lab-2'], io)).toBe(1);
    expect(io.stderr()).toContain("unknown host 'nope' (known hosts: lab-1, lab-2)");
    expect(io.stderr()).toContain('[ferry_unknown_host]');
  });

  it('migrate --help explains a target group', async () => {
    const io = collect();
    expect(await main(['migrate', '--help'], io)).toBe(0);
    expect(io.stdout()).toContain('--to group:NAME the member of an inventory group best able to take the container, picked when it runs');
    expect(io.stdout()).toContain('with --dry-run, the member that would be picked now');
  });

  it('migrate --to group: with a malformed group name is a usage error (2)', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'group:cloud;b'], io)).toBe(2);
    expect(io.stderr()).toContain("invalid group 'cloud;b'");
    expect(io.stderr()).toContain('[ferry_invalid_name]');
  });

  it.each([[[]], [['--dry-run']]])('migrate --to group:NAME %j refuses a group the hosts do not have (1), asking no host', async (extra) => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'group:cloud-b', ...extra], io)).toBe(1);
    expect(io.stderr()).toContain("unknown group 'cloud-b' (groups: none; a hosts.json has no groups, set FERRY_INVENTORY)");
    expect(io.stderr()).toContain('[ferry_unknown_group]');
  });

  it('migrate --group to a target group is a usage error (2): a group of containers moves to one host', async () => {
    const io = collect();
    expect(await main(['migrate', '--group', 'blog', '--from', 'lab-1', '--to', 'group:cloud-b'], io)).toBe(2);
    expect(io.stderr()).toContain('--group moves every member to one host');
    expect(io.stderr()).toContain('[ferry_usage]');
  });

  it('migrate with an unknown method is a usage error (2), refused before any host is reached', async () => {
    const io = collect();
    expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'warp'], io)).toBe(2);
    expect(io.stderr()).toContain("unknown method 'warp'");
    expect(io.stderr()).toContain('[ferry_unknown_method]');
  });

  it('migrate reports a missing hosts file as lab not up', async () => {
    const keep = process.env.FERRY_HOSTS_FILE;
    process.env.FERRY_HOSTS_FILE = path.join(dir, 'missing.json');
    try {
      const io = collect();
      expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2'], io)).toBe(1);
      expect(io.stderr()).toContain('[ferry_lab_not_up]');
    } finally {
      process.env.FERRY_HOSTS_FILE = keep;
    }
  });

  it('a long command shows its steps, keeps the tools\' output in a log under the lab dir, and names it on failure', async () => {
    const keepPath = process.env.PATH;
    const emptyBin = path.join(dir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    process.env.FERRY_LAB_DIR = path.join(dir, 'lab');
    process.env.PATH = emptyBin; // no ansible-playbook: the step fails as a missing tool
    try {
      const io = collect();
      expect(await main(['front', 'web1', '--on', 'lab-1'], io)).toBe(1);
      const err = io.stderr().split('\n');
      expect(err[0]).toBe('… putting HAProxy in front of web1 on lab-1 (ansible-playbook haproxy.yml)');
      expect(err[1]).toMatch(/^✘ putting HAProxy in front of web1 on lab-1 \(ansible-playbook haproxy\.yml\) \(\d+\.\d s\)$/);
      expect(err[2]).toBe('ferry: ansible-playbook is not installed (not found on PATH): run scripts/setup.sh, which installs what Ferry needs, or install it yourself [ferry_tool_missing]');
      const logLine = err.find((l) => l.startsWith("ferry: Terraform's and Ansible's full output: "))!;
      const logFile = logLine.slice("ferry: Terraform's and Ansible's full output: ".length);
      expect(path.dirname(logFile)).toBe(path.join(dir, 'lab', 'logs'));
      expect(path.basename(logFile)).toMatch(/^front-\d{8}-\d{6}-\d+\.log$/);
      const log = readFileSync(logFile, 'utf8');
      expect(log).toMatch(/ == putting HAProxy in front of web1 on lab-1 \(ansible-playbook haproxy\.yml\)\n/);
      expect(log).toMatch(/ \$ ansible-playbook -i .*inventory\.ini .*haproxy\.yml .*\n/);
      expect(log).toMatch(/ failed: \[ferry_tool_missing\] ansible-playbook is not installed/);
      expect(statSync(logFile).mode & 0o777).toBe(0o600);
    } finally {
      process.env.PATH = keepPath;
      delete process.env.FERRY_LAB_DIR;
    }
  });

  it('a bad environment fails fast with a config error', async () => {
    process.env.FERRY_LAB_SUBNET = '10.1';
    try {
      const io = collect();
      expect(await main(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2'], io)).toBe(1);
      expect(io.stderr()).toContain("FERRY_LAB_SUBNET='10.1'");
      expect(io.stderr()).toContain('[ferry_config_invalid]');
    } finally {
      delete process.env.FERRY_LAB_SUBNET;
    }
  });
});
