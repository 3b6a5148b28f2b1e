import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { runLocal } from '../../src/util/run-local.ts';
import { cachedRootfs, ensureRootfs, readManifest, unpackRootfs, type RootfsTarball } from '../../src/workloads/wordpress/rootfs.ts';
import { applyWordpressContainer, generateDbPassword, wordpressContainers, type WordpressRole } from '../../src/workloads/wordpress/spec.ts';
import { Sandbox } from './sandbox.ts';

/**
 * The paper's workload without Ferry's lab: both root filesystems (built with mmdebstrap, or from
 * the cache), MariaDB and WordPress started by runc as Ferry starts containers (sharing one network
 * namespace, stdio on /dev/null, Ferry's config.json template), a comment posted through
 * wp-comments-post.php, then each container checkpointed and restored with CRIU: the comment is
 * still there and neither service was restarted.
 */

const MIRROR = process.env.FERRY_DEBIAN_MIRROR ?? 'http://deb.debian.org';

async function unavailable(): Promise<string | null> {
  const lab = labUnavailable();
  if (lab) return lab;
  for (const [tool, pkg] of [
    ['runc', 'runc'],
    ['nsenter', 'util-linux'],
    ['curl', 'curl'],
    ['zstd', 'zstd'],
  ] as const) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (apt-get install ${pkg}; scripts/setup.sh installs it)`;
    }
  }
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import jinja2'], { stdio: 'ignore' });
  } catch {
    return "needs Debian's python3-jinja2 (it comes with ansible-core) to render playbooks/templates/config.json.j2";
  }
  if (await cachedRootfs(['mariadb', 'wordpress']).catch(() => null)) return null;
  // Not cached: a build needs mmdebstrap and Debian's mirror.
  try {
    execFileSync('sh', ['-c', 'command -v mmdebstrap'], { stdio: 'ignore' });
  } catch {
    return 'the rootfs tarballs are not cached and mmdebstrap is missing (apt-get install mmdebstrap; scripts/setup.sh installs it)';
  }
  try {
    const r = await fetch(`${MIRROR}/debian/dists/bookworm/InRelease`, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    if (!r.ok) return `the rootfs tarballs are not cached and Debian's mirror answered ${r.status} for ${MIRROR}/debian/dists/bookworm/InRelease`;
  } catch (e) {
    return `the rootfs tarballs are not cached and Debian's mirror ${MIRROR} is unreachable (${e instanceof Error ? e.message : String(e)})`;
  }
  return null;
}

const why = await unavailable();
skipNote(why, 'test/workloads/wordpress-rootfs.test.ts');

// Not the defaults: a service of the machine may hold 3306 or 8081 in the root namespace, and
// ports off the defaults prove the containers take them from the environment.
const DB_PORT = 13306;
const WEB_PORT = 18081;

describe.skipIf(why)('the WordPress workload under runc and CRIU', () => {
  let sb: Sandbox;
  const tag = `wpt-${process.pid}`;
  const containers = wordpressContainers({ dbPassword: generateDbPassword(), dbPort: DB_PORT, webPort: WEB_PORT });
  const id = (role: WordpressRole) => `${tag}-${role}`;
  const rootfs = (role: WordpressRole) => path.join(sb.bundle(id(role)), 'rootfs');
  const comments: string[] = [];

  beforeAll(async () => {
    const started = performance.now();
    const tarballs: RootfsTarball[] = await ensureRootfs(['mariadb', 'wordpress']);
    for (const t of tarballs) {
      const m = await readManifest(t);
      console.info(
        `${t.kind} rootfs: ${t.built ? `built in ${((performance.now() - started) / 1000).toFixed(0)} s` : `cached, built ${m.builtAt} in ${m.buildSeconds} s`}, ` +
          `${(m.bytes / 2 ** 20).toFixed(0)} MiB (${(m.unpackedBytes / 2 ** 20).toFixed(0)} MiB unpacked), ${t.path}`,
      );
    }
    sb = await Sandbox.create(tag);
    for (const role of ['db', 'web'] as const) {
      await mkdir(rootfs(role), { recursive: true });
      await unpackRootfs(tarballs.find((t) => t.kind === containers[role].rootfs)!.path, rootfs(role));
      await sb.writeConfig(id(role), (base) => applyWordpressContainer(base, containers[role]));
    }
  }, 45 * 60_000);

  afterAll(async () => {
    if (!sb) return;
    const problems = await sb.destroy();
    if (problems.length) console.warn(`cleanup of ${tag}:\n${problems.join('\n')}`);
  }, 120_000);

  /** curl inside the sandbox's namespace: [status, body]. */
  async function http(urlPath: string, form?: Record<string, string>): Promise<{ status: number; body: string; location: string }> {
    const args = ['curl', '-sS', '--max-time', '30', '-o', '-', '-w', '\n%{http_code} %{redirect_url}'];
    for (const [k, v] of Object.entries(form ?? {})) args.push('--data-urlencode', `${k}=${v}`);
    args.push(`http://127.0.0.1:${WEB_PORT}${urlPath}`);
    const r = await sb.inNetns(args, { okCodes: [0, 7, 28, 52, 56] });
    const cut = r.stdout.lastIndexOf('\n');
    const [status, location] = r.stdout.slice(cut + 1).split(' ');
    return { status: Number(status), body: r.stdout.slice(0, cut), location: location ?? '' };
  }

  async function waitForHomePage(timeoutS: number): Promise<void> {
    const deadline = performance.now() + timeoutS * 1000;
    let last = '';
    while (performance.now() < deadline) {
      const r = await http('/');
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
      if ((await sb.status(id('web'))) !== 'running') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const log = await readFile(path.join(rootfs('web'), 'var/log/ferry/web-start.log'), 'utf8').catch(() => '');
    throw new Error(`WordPress did not answer on :${WEB_PORT} within ${timeoutS} s (${last}); web container ${await sb.status(id('web'))}; web-start.log:\n${log}`);
  }

  /** Posts a comment on post 1 as an anonymous visitor; returns its text. */
  async function postComment(label: string): Promise<string> {
    const text = `${tag} ${label} ${Date.now()}`;
    const r = await http('/wp-comments-post.php', { comment_post_ID: '1', author: 'Ferry test', email: 'test@example.invalid', comment: text, comment_parent: '0' });
    expect(r.status, r.body.slice(0, 500)).toBe(302);
    expect(r.location).toMatch(/#comment-\d+$/);
    comments.push(text);
    return text;
  }

  /** The approved comments on post 1, through the REST API and on the post's page. */
  async function commentsOnPost(): Promise<{ rest: string; page: string }> {
    const rest = await http('/?rest_route=/wp/v2/comments&post=1&per_page=100');
    expect(rest.status).toBe(200);
    const page = await http('/?p=1');
    expect(page.status).toBe(200);
    return { rest: rest.body, page: page.body };
  }

  async function count(file: string, pattern: RegExp): Promise<number> {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => pattern.test(l)).length;
  }

  /** Lines each service writes once per start: a restore must not add any. */
  async function starts(): Promise<Record<WordpressRole, number[]>> {
    return {
      db: [
        await count(path.join(rootfs('db'), 'var/log/ferry/db-start.log'), /ferry-db-start:/),
        await count(path.join(rootfs('db'), 'var/log/mysql/error.log'), /ready for connections/),
      ],
      web: [
        await count(path.join(rootfs('web'), 'var/log/ferry/web-start.log'), /ferry-web-start:/),
        await count(path.join(rootfs('web'), 'var/log/apache2/error.log'), /resuming normal operations/),
      ],
    };
  }

  async function checkpointAndRestore(role: WordpressRole, name: string): Promise<void> {
    const images = await sb.imagesDir(name);
    try {
      const t0 = performance.now();
      await sb.checkpoint(id(role), images);
      const t1 = performance.now();
      expect(await sb.status(id(role))).toBe('absent');
      await sb.restore(id(role), images);
      const t2 = performance.now();
      // For the README, not asserted: how much a checkpoint of each service writes, and how long it takes here.
      const bytes = Number((await runLocal('du', ['-sb', images])).stdout.split('\t')[0]);
      console.info(`${role}: checkpoint ${((t1 - t0) / 1000).toFixed(2)} s, ${(bytes / 2 ** 20).toFixed(0)} MiB of images; restore ${((t2 - t1) / 1000).toFixed(2)} s`);
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await sb.diagnose(id(role), images)}`);
    }
    expect(await sb.status(id(role))).toBe('running');
  }

  it('starts MariaDB, then WordPress, which installs itself and serves its home page', async () => {
    await sb.run(id('db'));
    await sb.run(id('web'));
    await waitForHomePage(180);
    expect((await http('/')).body).toContain('Ferry WordPress');
    const listening = (await sb.inNetns(['ss', '-Hltn'])).stdout;
    expect(listening).toContain(`0.0.0.0:${DB_PORT}`);
    expect(listening).toContain(`0.0.0.0:${WEB_PORT}`);
    expect(await starts()).toEqual({ db: [1, 1], web: [1, 1] });
  });

  it('takes a comment from an anonymous visitor through wp-comments-post.php and shows it', async () => {
    const text = await postComment('before the checkpoints');
    const { rest, page } = await commentsOnPost();
    expect(rest).toContain(text);
    expect(page).toContain(text);
  });

  it('checkpoints and restores MariaDB: the comment is still there, the server was not restarted', async () => {
    await checkpointAndRestore('db', 'db-1');
    const { rest } = await commentsOnPost();
    for (const c of comments) expect(rest).toContain(c);
    expect((await starts()).db).toEqual([1, 1]);
  });

  it('checkpoints and restores WordPress: same pages, Apache not restarted', async () => {
    await checkpointAndRestore('web', 'web-1');
    const { rest, page } = await commentsOnPost();
    for (const c of comments) {
      expect(rest).toContain(c);
      expect(page).toContain(c);
    }
    expect((await starts()).web).toEqual([1, 1]);
  });

  it('takes and keeps new comments after both restores', async () => {
    const text = await postComment('after the restores');
    const { rest } = await commentsOnPost();
    for (const c of comments) expect(rest).toContain(c);
    expect(rest).toContain(text);
    expect(await starts()).toEqual({ db: [1, 1], web: [1, 1] });
  });
});
