/**
 * LAB TEST (needs root, CRIU >= 4.2 and the namespace lab; `npm test` brings the lab up): the
 * paper's workload deployed by Ferry. `ferry deploy wordpress blog --on lab-1 --front` builds or
 * finds both root filesystems, starts blog-db then blog-web (one group) and puts HAProxy in front;
 * a post is read and a comment created through WordPress's HTTP via HAProxy; the name is refused on
 * lab-2; `ferry rm` takes both containers and the front away. The group moves lab-1 → lab-2 and
 * back with `ferry migrate --group` under load, and again from the console chat (`/migrate group`).
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { cachedRootfs } from '../../src/workloads/wordpress/rootfs.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { address, clearLab, ferry, labUp, onHost, provision, runcState } from '../helpers/lab.ts';

const MIRROR = process.env.FERRY_DEBIAN_MIRROR ?? 'http://deb.debian.org';
/** Not 80: another suite's HAProxy may still front web1 there. */
const FRONT_PORT = 8088;
const WEB_PORT = 8081;
const DB_PORT = 3306;
const MEMBERS = ['blog-db', 'blog-web'];

async function unavailable(): Promise<string | null> {
  const lab = labUnavailable();
  if (lab) return lab;
  for (const tool of ['zstd', 'rsync', 'haproxy']) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (scripts/setup.sh installs it)`;
    }
  }
  if (await cachedRootfs(['mariadb', 'wordpress']).catch(() => null)) return null;
  try {
    execFileSync('sh', ['-c', 'command -v mmdebstrap'], { stdio: 'ignore' });
  } catch {
    return 'the rootfs tarballs are not cached and mmdebstrap is missing (apt-get install mmdebstrap; scripts/setup.sh installs it)';
  }
  try {
    const r = await fetch(`${MIRROR}/debian/dists/bookworm/InRelease`, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    if (!r.ok) return `the rootfs tarballs are not cached and Debian's mirror answered ${r.status}`;
  } catch (e) {
    return `the rootfs tarballs are not cached and Debian's mirror ${MIRROR} is unreachable (${e instanceof Error ? e.message : String(e)})`;
  }
  return null;
}

const why = await unavailable();
skipNote(why, 'test/workloads/wordpress-lab.test.ts (lab test: ferry deploy wordpress --front)');

/** The console chat on the lab as it is (`ferry start --no-lab`, no Slack tokens, a private Redis), a script on stdin. */
function consoleChat(script: string[]): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'REDIS_URL', 'FERRY_POLICY_FILE']) delete env[k];
    const p = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), 'start', '--no-lab'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ out, err, code }));
    p.stdin.end([...script, ''].join('\n'));
  });
}

/** HAProxy on lab-1 pointed at its own host again after the group came back (the hold server and the target out). */
async function frontHome(): Promise<void> {
  for (const c of ['set server be_blog-web/src state ready', 'set server be_blog-web/dst state maint', 'set server be_blog-web/hold state maint']) {
    await onHost('lab-1', ['socat', 'stdio', 'unix-connect:/run/ferry/haproxy-blog-web.sock'], { allowFail: true, stdin: `${c}\n` });
  }
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(5000, () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(false));
    s.on('connect', () => (s.destroy(), resolve(true)));
  });
}

describe.skipIf(why !== null)('LAB: ferry deploy wordpress --front', () => {
  let front = '';
  const comment = `posted through HAProxy ${Date.now()}`;

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await clearLab(MEMBERS);
    front = `http://${await address('lab-1')}:${FRONT_PORT}`;
  });

  afterAll(async () => {
    await ferry(['rm', ...MEMBERS, '--force']).catch(() => undefined);
    await clearLab(MEMBERS).catch(() => undefined);
  });

  it('deploys blog-db, then blog-web, as one group, with HAProxy in front', async () => {
    const r = await ferry(['deploy', 'wordpress', 'blog', '--on', 'lab-1', '--front', '--frontend-port', String(FRONT_PORT), '--json']);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(r.stdout) as { group: string; url: string; containers: { name: string; group: { name: string; order: number }; ports: number[]; movable: { blockers: unknown[] } }[] };
    expect(out.group).toBe('blog');
    expect(out.url).toBe(`${front}/`);
    expect(out.containers.map((c) => [c.name, c.group, c.ports])).toEqual([
      ['blog-db', { name: 'blog', order: 0 }, [DB_PORT]],
      ['blog-web', { name: 'blog', order: 1 }, [WEB_PORT]],
    ]);
    for (const c of out.containers) expect(c.movable.blockers).toEqual([]);
  }, 45 * 60_000); // the first run builds both root filesystems (5 to 11 minutes here)

  it('labels both containers as one group in their config.json, the database first, and ships their CRIU options', async () => {
    for (const [name, order] of [['blog-db', '0'], ['blog-web', '1']] as const) {
      const config = JSON.parse(await onHost('lab-1', ['cat', `/var/lib/ferry/containers/${name}/config.json`])) as { annotations: Record<string, string>; linux: { namespaces: { type: string }[] } };
      expect(config.annotations).toMatchObject({ 'org.ferry.group': 'blog', 'org.ferry.group.order': order, 'org.criu.config': `/var/lib/ferry/containers/${name}/criu.conf` });
      expect(config.linux.namespaces.map((n) => n.type)).toContain('user');
      expect(await onHost('lab-1', ['cat', `/var/lib/ferry/containers/${name}/criu.conf`])).toMatch(/^file-locks$/m);
    }
    // The database was created before the web server (runc's own creation times).
    const created = async (name: string) => Date.parse((JSON.parse(await onHost('lab-1', ['runc', '--root', '/run/ferry/runc', 'state', name])) as { created: string }).created);
    expect(await created('blog-db')).toBeLessThan(await created('blog-web'));
  });

  it('both containers are healthy: MariaDB takes connections, WordPress serves its home page', async () => {
    for (const name of MEMBERS) expect(await runcState('lab-1', name)).toBe('running');
    expect(await tcpOpen(await address('lab-1'), DB_PORT)).toBe(true);
    const home = await fetch(`http://${await address('lab-1')}:${WEB_PORT}/`, { signal: AbortSignal.timeout(30_000) });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Ferry WordPress');
  });

  it('reads the post and creates a comment through WordPress via HAProxy', async () => {
    const post = await fetch(`${front}/?p=1`, { signal: AbortSignal.timeout(30_000) });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('Hello world!');
    const form = new URLSearchParams({ comment_post_ID: '1', author: 'Ferry lab test', email: 'test@example.invalid', comment, comment_parent: '0' });
    const sent = await fetch(`${front}/wp-comments-post.php`, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    expect(sent.status, await sent.clone().text()).toBe(302);
    expect(sent.headers.get('location')).toMatch(/#comment-\d+$/);
    const comments = await fetch(`${front}/?rest_route=/wp/v2/comments&post=1&per_page=100`, { signal: AbortSignal.timeout(30_000) });
    expect(comments.status).toBe(200);
    expect(await comments.text()).toContain(comment);
  });

  it('moves the group lab-1 → lab-2 with page-server under load through HAProxy: no request fails, every acknowledged comment is there, one downtime window', async () => {
    // Clients read the post and post comments through HAProxy the whole time (the hold server keeps them through the freeze).
    const acked: string[] = [];
    const failures: string[] = [];
    let requests = 0;
    let stop = false;
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        requests++;
        try {
          if (i % 2 === 0) {
            const r = await fetch(`${front}/?p=1`, { signal: AbortSignal.timeout(90_000) });
            await r.arrayBuffer();
            if (r.status !== 200) failures.push(`GET ${r.status}`);
          } else {
            const text = `comment ${n}-${i} during the move ${Date.now()}`;
            const form = new URLSearchParams({ comment_post_ID: '1', author: `client ${n}`, email: 'load@example.invalid', comment: text, comment_parent: '0' });
            const r = await fetch(`${front}/wp-comments-post.php`, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(90_000) });
            await r.arrayBuffer();
            if (r.status === 302) acked.push(text);
            else failures.push(`POST ${r.status}`);
          }
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await new Promise((r) => setTimeout(r, 3000));
    const r = await ferry(['migrate', '--group', 'blog', '--from', 'lab-1', '--to', 'lab-2', '--method', 'page-server', '--json']);
    await new Promise((r2) => setTimeout(r2, 3000));
    stop = true;
    await Promise.all(clients);
    expect(r.code, `${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`).toBe(0);
    const report = JSON.parse(r.stdout) as { outcome: string; members: { container: string; outcome: string; runsOn: string; times: { downtime: number } }[]; times: { downtime: number; total: number } };
    expect(report.outcome).toBe('migrated');
    expect(report.members.map((m) => [m.container, m.outcome, m.runsOn])).toEqual([
      ['blog-db', 'migrated', 'lab-2'],
      ['blog-web', 'migrated', 'lab-2'],
    ]);
    // One downtime window for both: frozen together, so the group's window is shorter than the two added up.
    const sum = report.members.reduce((a, m) => a + m.times.downtime, 0);
    console.log(`group blog: downtime ${report.times.downtime.toFixed(2)} s (members ${report.members.map((m) => m.times.downtime.toFixed(2)).join(' + ')} s), ${requests} requests, ${acked.length} comments acknowledged, ${failures.length} failed`);
    expect(report.times.downtime).toBeLessThan(sum);
    expect(failures).toEqual([]);
    expect(acked.length).toBeGreaterThan(0);
    for (const name of MEMBERS) {
      expect(await runcState('lab-2', name)).toBe('running');
      expect(await runcState('lab-1', name)).toBeNull();
    }
    // Every comment acknowledged before or during the move is there afterwards.
    let body = '';
    for (let page = 1; page < 100; page++) {
      const res = await fetch(`${front}/?rest_route=/wp/v2/comments&post=1&per_page=100&page=${page}`, { signal: AbortSignal.timeout(30_000) });
      if (res.status !== 200) break;
      const text = await res.text();
      if (text.trim() === '[]') break;
      body += text;
    }
    for (const c of [...acked, comment]) expect(body, c).toContain(c);
    // Back to lab-1 for the next tests, HAProxy on lab-1 pointed at its own host again.
    const back = await ferry(['migrate', '--group', 'blog', '--from', 'lab-2', '--to', 'lab-1', '--method', 'page-server', '--json']);
    expect(back.code, back.stderr.slice(-2000)).toBe(0);
    await frontHome();
  }, 20 * 60_000);

  it('moves the group from the chat (the console, on the Slack core): a second person approves, members report under their names, the summary has a row per member and one for the group', async () => {
    const r = await consoleChat([
      '/migrate group blog from lab-1 to lab-2 method page-server',
      '/approve',
      '/as bob',
      '/approve',
      '/wait',
      '/as alice',
      '/migrate group blog from lab-2 to lab-1 method page-server',
      '/as bob',
      '/approve',
      '/wait',
    ]);
    expect(r.code, r.err.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/asks to move group blog from lab-1 to lab-2 with method page-server/);
    expect(r.out).toMatch(/A group: every container of blog running on lab-1 moves/);
    expect(r.out).toMatch(/yourself/);
    expect(r.out).toMatch(/↳ blog-db: .*Checkpoint/);
    expect(r.out).toMatch(/↳ blog-web: .*Restore/);
    expect(r.out).toMatch(/group blog moved from lab-1 to lab-2: 2 containers \(blog-db, blog-web\)/);
    expect(r.out).toMatch(/group blog moved from lab-2 to lab-1: 2 containers \(blog-db, blog-web\)/);
    expect(r.out).toMatch(/blog-db\s+migrated\s/);
    expect(r.out).toMatch(/blog-web\s+migrated\s/);
    expect(r.out).toMatch(/group blog\s+migrated\s+\d+\.\d\d\s+\d+\.\d\d/);
    // There and back: both run on lab-1 again, and WordPress answers through HAProxy.
    for (const name of MEMBERS) {
      expect(await runcState('lab-1', name)).toBe('running');
      expect(await runcState('lab-2', name)).toBeNull();
    }
    await frontHome();
    const post = await fetch(`${front}/?p=1`, { signal: AbortSignal.timeout(30_000) });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('Hello world!');
  }, 20 * 60_000);

  it('refuses the group on another host, naming where its containers run', async () => {
    const r = await ferry(['deploy', 'wordpress', 'blog', '--on', 'lab-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/blog-(db|web) already exists on lab-1 \(running\)/);
    for (const name of MEMBERS) expect(await runcState('lab-2', name)).toBeNull();
  });

  it('ferry rm takes both containers, their files and the HAProxy front away', async () => {
    const r = await ferry(['rm', ...MEMBERS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('removed blog-web from lab-1 (was running), and its HAProxy front');
    for (const name of MEMBERS) {
      expect(await runcState('lab-1', name)).toBeNull();
      expect((await onHost('lab-1', ['ls', '-d', `/var/lib/ferry/containers/${name}`], { allowFail: true })).trim()).toBe('');
    }
    expect((await onHost('lab-1', ['ls', '/run/ferry/haproxy-blog-web.sock', '/var/lib/ferry/haproxy/blog-web.cfg'], { allowFail: true })).trim()).toBe('');
    expect(await tcpOpen(await address('lab-1'), FRONT_PORT)).toBe(false);
  });
});
