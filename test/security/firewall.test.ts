/**
 * The page-port guard for real: nftables inside a network namespace of our own (hx-sec-*), set
 * through a real RemoteHost over SSH, tested with real TCP connections from the peer's address,
 * from a third address, and to ports nobody was granted. Root only; everything is removed after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';
import { ensurePortGuard, grantPagePort, listGrants, removePortGuard, revokeMigrationGrants, revokePagePort } from '../../src/migrate/firewall-host.ts';
import { LAZY_GRANT_S, openLazySourcePort } from '../../src/migrate/strategies/Lazy.ts';
import { openPagePort, PAGE_GRANT_S } from '../../src/migrate/wire.ts';
import { skipNote } from '../helpers/env.ts';
import { createPair, netnsUnavailable, sshIntoNs, type NetnsPair, type SshIntoNs } from './netns.ts';

const why = netnsUnavailable(['ip', 'nsenter', 'nft', 'socat', 'sshd', 'ssh-keygen']);
skipNote(why, 'page-port firewall in a network namespace');

const M1 = 'm-20261201000000-aaaaaa';
const M2 = 'm-20261201000001-bbbbbb';
const M3 = 'm-20261201000002-cccccc';

describe.skipIf(why !== null)('the page-port guard in a network namespace', () => {
  let pair: NetnsPair;
  let sshd: SshIntoNs;
  let host: RemoteHost;
  const ports = [27011, 27012, 27013, 28999, 26999] as const;

  beforeAll(async () => {
    pair = await createPair('fw');
    sshd = await sshIntoNs(pair, pair.nsB, 'hx-target');
    host = new RemoteHost(sshd.spec, { defaultTimeoutS: 30, reconnectS: 10 });
    // One listener per port on the target: a refused connection is then the firewall's doing.
    for (const port of ports) {
      pair.spawn(pair.nsB, ['socat', `TCP6-LISTEN:${port},ipv6only=0,reuseaddr,fork`, 'EXEC:echo hello']);
    }
    for (let i = 0; i < 100 && !(await listening(ports.length)); i++) await new Promise((r) => setTimeout(r, 50));
  });

  afterAll(async () => {
    host?.dispose();
    await sshd?.stop();
    await pair?.destroy();
  });

  async function listening(n: number): Promise<boolean> {
    const out = (await pair.inNs(pair.nsB, ['ss', '-Hltn'])).stdout;
    return ports.slice(0, n).every((p) => out.includes(`:${p} `));
  }

  /** 'open' when the target answered, else socat's reason (refused, timed out). */
  async function connect(from: string, to: string, port: number): Promise<string> {
    const v6 = to.includes(':');
    const addr = v6 ? `TCP6:[${to}]:${port},bind=[${from}]` : `TCP4:${to}:${port},bind=${from}`;
    const r = await pair.inNs(pair.nsA, ['socat', '-T', '5', '-', `${addr},connect-timeout=5`], { input: '' });
    if (r.exitCode === 0 && r.stdout.includes('hello')) return 'open';
    return /refused/i.test(r.stderr) ? 'refused' : `failed: ${r.stderr.trim()}`;
  }

  it('everything is open before the guard (the listeners answer anyone)', async () => {
    expect(await connect(pair.intruder, pair.target, 27011)).toBe('open');
  });

  it('the guard closes the whole range to everyone, and only the range', async () => {
    await ensurePortGuard(host);
    await ensurePortGuard(host); // idempotent
    const chain = (await pair.inNs(pair.nsB, ['nft', 'list', 'chain', 'inet', 'ferry', 'input'])).stdout;
    expect(chain.match(/reject with tcp reset/g)).toHaveLength(1);
    expect(await connect(pair.peer, pair.target, 27011)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 28999)).toBe('refused');
    expect(await connect(pair.intruder6, pair.target6, 27012)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 26999)).toBe('open');
  });

  it("a grant opens one port to the peer's address only", async () => {
    await grantPagePort(host, { migration: M1, peer: pair.peer, port: 27011, ttlS: 600 });
    expect(await connect(pair.peer, pair.target, 27011)).toBe('open');
    expect(await connect(pair.intruder, pair.target, 27011)).toBe('refused');
    expect(await connect(pair.peer, pair.target, 27012)).toBe('refused');
  });

  it('IPv6 peers get their own grants', async () => {
    await grantPagePort(host, { migration: M1, peer: pair.peer6, port: 27012, ttlS: 600 });
    expect(await connect(pair.peer6, pair.target6, 27012)).toBe('open');
    expect(await connect(pair.intruder6, pair.target6, 27012)).toBe('refused');
    expect(await connect(pair.peer, pair.target, 27012)).toBe('refused');
  });

  it("two migrations' grants stand side by side; re-asserting the guard keeps them", async () => {
    await grantPagePort(host, { migration: M2, peer: pair.intruder, port: 28999, ttlS: 600 });
    await ensurePortGuard(host);
    expect(await connect(pair.intruder, pair.target, 28999)).toBe('open');
    expect(await connect(pair.peer, pair.target, 27011)).toBe('open');
    expect(await connect(pair.peer, pair.target, 28999)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 27011)).toBe('refused');
  });

  it('lists grants with their owner and an expiry no later than asked', async () => {
    const mine = await listGrants(host, M1);
    expect(mine.map((g) => `${g.peer} ${g.port}`).sort()).toEqual([`${pair.peer} 27011`, `${pair.peer6} 27012`]);
    for (const g of mine) {
      expect(g.migration).toBe(M1);
      expect(g.expiresS).toBeGreaterThan(0);
      expect(g.expiresS).toBeLessThanOrEqual(600);
    }
    expect((await listGrants(host)).length).toBe(3);
  });

  it("revoking a migration closes its ports and no other's; twice is harmless", async () => {
    expect(await revokeMigrationGrants(host, M1)).toBe(2);
    expect(await revokeMigrationGrants(host, M1)).toBe(0);
    await revokePagePort(host, { peer: pair.peer, port: 27011 }); // already gone: no error
    expect(await connect(pair.peer, pair.target, 27011)).toBe('refused');
    expect(await connect(pair.peer6, pair.target6, 27012)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 28999)).toBe('open');
  });

  it("a migration's page port, as the strategies open it: to the other host's address, and closed again", async () => {
    // The source is only named here (its address is what the target's firewall sees); never connected to.
    const source = new RemoteHost({ ...sshd.spec, name: 'hx-source', address: pair.peer });
    const ctx = { id: M1, dir: pair.dir, source, target: host };
    const noop = await openPagePort({ ...ctx, firewall: false }, 'target', 27011, 60);
    expect(await connect(pair.peer, pair.target, 27011)).toBe('refused');
    await noop();
    const close = await openPagePort({ ...ctx, firewall: true }, 'target', 27011, 60);
    expect(await connect(pair.peer, pair.target, 27011)).toBe('open');
    expect(await connect(pair.intruder, pair.target, 27011)).toBe('refused');
    await close();
    expect(await connect(pair.peer, pair.target, 27011)).toBe('refused');
    source.dispose();
  });

  it("a lazy migration's source port, as Lazy opens it: to the target's peer address only, for the whole serving, and closed by cleanup", async () => {
    // The host under test is the source now; the target is only named. The controller reaches it at
    // another address (here the intruder's) than its peers do (across a tunnel): the grant must
    // follow the peer address, the one the target's lazy-pages daemon connects from.
    const target = new RemoteHost({ ...sshd.spec, name: 'hx-lazy-target', address: pair.intruder, peerAddress: pair.peer });
    const ctx = { id: M3, dir: pair.dir, source: host, target };
    expect(await connect(pair.peer, pair.target, 27013)).toBe('refused');
    await openLazySourcePort({ ...ctx, firewall: false }, 27013);
    expect(await connect(pair.peer, pair.target, 27013)).toBe('refused');
    await openLazySourcePort({ ...ctx, firewall: true }, 27013);
    expect(await connect(pair.peer, pair.target, 27013)).toBe('open');
    expect(await connect(pair.intruder, pair.target, 27013)).toBe('refused');
    expect(await connect(pair.peer, pair.target, 27011)).toBe('refused'); // that port alone
    const [grant, ...others] = await listGrants(host, M3);
    expect(others).toEqual([]);
    expect(grant).toMatchObject({ peer: pair.peer, port: 27013, migration: M3 });
    // It outlives a page server's grant: pages are served for as long as the restored container needs them.
    expect(grant!.expiresS).toBeGreaterThan(PAGE_GRANT_S);
    expect(grant!.expiresS).toBeLessThanOrEqual(LAZY_GRANT_S);
    // Lazy keeps no handle on it: the migration's cleanup closes it by the migration's id (reconcile.ts).
    expect(await revokeMigrationGrants(host, M3)).toBe(1);
    expect(await connect(pair.peer, pair.target, 27013)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 27013)).toBe('refused');
    expect(await connect(pair.intruder, pair.target, 28999)).toBe('open'); // another migration's grant stays
    target.dispose();
  });

  it('removing the guard opens the range again (it was the guard that refused)', async () => {
    await removePortGuard(host);
    await removePortGuard(host);
    expect(await listGrants(host)).toEqual([]);
    expect(await connect(pair.intruder, pair.target, 27011)).toBe('open');
  });
});
