import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployForm } from '../../../src/cli/commands/deploy.ts';
import { main, type Output } from '../../../src/cli/main.ts';

/**
 * `ferry deploy` and `ferry rm` up to the first host contact: every case here is refused before
 * a host is asked anything (the hosts file names TEST-NET addresses that route nowhere).
 */
function collect(): Output & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';

describe('deployForm', () => {
  it.each([
    [['img1'], 'container'],
    [['web'], 'container'], // a container named web, with --image or the like
    [['wordpress', 'blog'], 'wordpress'],
    [['web', 'web1'], 'builtin'],
    [['kv', 'kv1'], 'builtin'],
    [['img1', 'img2'], null],
    [[], null],
    [['wordpress', 'blog', 'x'], null],
  ] as [string[], string | null][])('%j is the %s form', (positionals, form) => {
    expect(deployForm(positionals)).toBe(form);
  });
});

describe('ferry deploy and ferry rm, refused before any host', () => {
  let dir = '';
  const saved: Record<string, string | undefined> = {};
  const VARS = ['FERRY_HOSTS_FILE', 'FERRY_INVENTORY', 'FERRY_LAB_DIR'];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-deploy-'));
    const host = (name: string, address: string) => ({ name, address, port: 22, user: 'root', privateKeyFile: path.join(dir, 'id_ed25519'), hostKey: KEY });
    writeFileSync(
      path.join(dir, 'hosts.json'),
      JSON.stringify({ environment: 'local', knownHostsFile: path.join(dir, 'known_hosts'), inventoryFile: path.join(dir, 'inventory.ini'), hosts: [host('lab-1', '192.0.2.11'), host('lab-2', '192.0.2.12')] }),
    );
    for (const k of VARS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.FERRY_HOSTS_FILE = path.join(dir, 'hosts.json');
    process.env.FERRY_LAB_DIR = dir;
  });

  afterAll(() => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = collect();
    const code = await main(args, io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('--help shows the three forms and the options', async () => {
    const r = await run(['deploy', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: ferry deploy NAME --on HOST (--image FILE|DIR [--ref REF] | --bundle DIR | --rootfs DIR --cmd CMD)');
    expect(r.stdout).toContain('ferry deploy wordpress NAME --on HOST');
    expect(r.stdout).toContain('ferry deploy web|kv NAME --on HOST');
    for (const flag of ['--env K=V', '--memory SIZE', '--health SPEC', '--front', '--group G']) expect(r.stdout).toContain(flag);
    const rm = await run(['rm', '--help']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('usage: ferry rm NAME... [--on HOST] [--force] [--json]');
  });

  it.each([
    ['no arguments', ['deploy'], /usage: ferry deploy NAME/],
    ['two names', ['deploy', 'img1', 'img2', '--on', 'lab-1', '--image', 'x.tar'], /usage: ferry deploy NAME/],
    ['no --on', ['deploy', 'img1', '--image', 'x.tar'], /missing --on HOST/],
    ['nothing to run', ['deploy', 'img1', '--on', 'lab-1'], /give what to run: --image, --bundle or --rootfs/],
    ['two things to run', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--rootfs', 'r'], /give one of --image, --bundle, --rootfs \(got --image and --rootfs\)/],
    ['--ref without --image', ['deploy', 'img1', '--on', 'lab-1', '--rootfs', 'r', '--cmd', 'sh', '--ref', 'a'], /--ref goes with --image/],
    ['a web flag on any container', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--mib', '3'], /--mib does not go with this form/],
    ['an image for wordpress', ['deploy', 'wordpress', 'blog', '--on', 'lab-1', '--image', 'x.tar'], /--image does not go with this form/],
    ['an image for web', ['deploy', 'kv', 'kv1', '--on', 'lab-1', '--image', 'x.tar'], /--image does not go with this form/],
    ['two ports for web', ['deploy', 'web', 'w1', '--on', 'lab-1', '--port', '1', '--port', '2'], /one --port for a web container/],
    ['an unknown flag', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--privileged'], /--privileged/],
    ['a shell line as --cmd', ['deploy', 'img1', '--on', 'lab-1', '--rootfs', 'r', '--cmd', 'a | b'], /invalid --cmd/],
    ['a tiny --memory', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--memory', '1k'], /below the minimum/],
    ['a bad --health', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--health', 'ftp:21'], /invalid health check 'ftp:21'/],
    ['a bad --port', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--port', '0'], /invalid port '0'/],
    ['a bad --env', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--env', 'NOVALUE'], /KEY=VALUE/],
    ['--group-order alone', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--group-order', '1'], /--group-order goes with --group/],
    ['a bad group name', ['deploy', 'img1', '--on', 'lab-1', '--image', 'x.tar', '--group', 'Blog'], /invalid group name/],
    ['a bad container name', ['deploy', 'Img1', '--on', 'lab-1', '--image', 'x.tar'], /invalid container name 'Img1'/],
    ['a bad host name', ['deploy', 'img1', '--on', 'lab_1', '--image', 'x.tar'], /invalid host name 'lab_1'/],
    ['a WordPress name too long for its members', ['deploy', 'wordpress', 'a'.repeat(28), '--on', 'lab-1'], /at most 27 characters/],
    ['a privileged web port', ['deploy', 'wordpress', 'blog', '--on', 'lab-1', '--web-port', '80'], /webPort must be a port from 1024/],
    ['HAProxy on the web port', ['deploy', 'wordpress', 'blog', '--on', 'lab-1', '--front', '--frontend-port', '8081'], /--frontend-port 8081 is also a container's port/],
    ['rm without a name', ['rm'], /usage: ferry rm NAME/],
    ['rm of a bad name', ['rm', 'img1', 'Bad;name'], /invalid container name/],
  ])('%s is a usage error (2)', async (_what, args, message) => {
    const r = await run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['deploy', ['deploy', 'img1', '--on', 'lab-9', '--image', 'x.tar']],
    ['deploy wordpress', ['deploy', 'wordpress', 'blog', '--on', 'lab-9']],
    ['rm', ['rm', 'img1', '--on', 'lab-9']],
  ])('%s on a host the inventory does not have fails (1), naming the known hosts', async (_what, args) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown host 'lab-9'");
    expect(r.stderr).toContain('[ferry_unknown_host]');
  });
});
