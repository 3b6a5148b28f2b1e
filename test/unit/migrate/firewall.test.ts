import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/config.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { GRANT_ID, grantRules, guardRules, listGrantsArgv, MAX_GRANT_S, PAGE_PORTS, parseGrants, removeGuardRules, revokeRules } from '../../../src/migrate/firewall.ts';
import { randomPort } from '../../../src/migrate/context.ts';
import { MIGRATION_ID } from '../../../src/migrate/request.ts';
import { LAZY_GRANT_S, LAZY_SERVE_S } from '../../../src/migrate/strategies/Lazy.ts';
import { PAGE_GRANT_S } from '../../../src/migrate/wire.ts';
import { catchFerry } from '../catch-ferry.ts';

const grant = { migration: 'm-20261201073000-a1b2c3', peer: '10.247.0.11', port: 27123, ttlS: 1500 };

describe('guardRules', () => {
  const rules = guardRules().trim().split('\n');

  it('closes the whole page-port range to new connections, except granted (peer, port) pairs', () => {
    expect(rules.filter((r) => r.startsWith('add rule'))).toEqual([
      'add rule inet ferry input tcp dport 27000-28999 tcp flags & (syn | ack) == syn ip saddr . tcp dport @grants4 accept',
      'add rule inet ferry input tcp dport 27000-28999 tcp flags & (syn | ack) == syn ip6 saddr . tcp dport @grants6 accept',
      'add rule inet ferry input tcp dport 27000-28999 tcp flags & (syn | ack) == syn reject with tcp reset',
    ]);
  });

  it('is idempotent: tables and sets are added (kept with their elements), the chain refilled in the same transaction', () => {
    expect(rules.filter((r) => /^(create|delete|flush (table|set|ruleset))/.test(r))).toEqual([]);
    const flush = rules.indexOf('flush chain inet ferry input');
    expect(flush).toBeGreaterThan(rules.findIndex((r) => r.startsWith('add chain')));
    expect(rules.slice(flush + 1).every((r) => r.startsWith('add rule'))).toBe(true);
  });

  it('covers the range the page servers pick ports from', () => {
    expect(PAGE_PORTS).toEqual({ min: 27000, max: 28999 });
    for (let i = 0; i < 200; i++) {
      const p = randomPort();
      expect(p).toBeGreaterThanOrEqual(PAGE_PORTS.min);
      expect(p).toBeLessThanOrEqual(PAGE_PORTS.max);
    }
  });

  it('is the file provision installs (playbooks/files/page-guard.nft)', () => {
    const file = readFileSync(path.join(REPO_ROOT, 'playbooks/files/page-guard.nft'), 'utf8');
    expect(file.replace(/^#.*\n/gm, '')).toBe(guardRules());
  });
});

describe('grantRules', () => {
  it('asserts the guard and adds one expiring element naming the migration', () => {
    const text = grantRules(grant);
    expect(text.startsWith(guardRules())).toBe(true);
    expect(text.slice(guardRules().length)).toBe('add element inet ferry grants4 { 10.247.0.11 . 27123 timeout 1500s comment "ferry:m-20261201073000-a1b2c3" }\n');
  });

  it('puts IPv6 peers in the IPv6 set', () => {
    expect(grantRules({ ...grant, peer: 'fd00:247::11' })).toMatch(/add element inet ferry grants6 \{ fd00:247::11 \. 27123 /);
  });

  it('refuses a peer that is not an IP address, naming what to do', () => {
    for (const peer of ['lab-1', '10.0.0.1; flush ruleset', '10.0.0.1 }', '', '0x0a000001 ']) {
      expect(catchFerry(() => grantRules({ ...grant, peer }), ErrorCode.FirewallFailed).message).toMatch(/IP address/);
    }
  });

  it('takes exactly the migration ids the engine takes', () => {
    expect(GRANT_ID.source).toBe(MIGRATION_ID.source);
  });

  it('refuses ports outside the range, ids that are not migration ids, and silly lifetimes', () => {
    for (const port of [26999, 29000, 22, 27000.5, Number.NaN]) expect(() => grantRules({ ...grant, port })).toThrow(/outside/);
    for (const migration of ['M-1', 'm1"; flush ruleset; "', '', 'a'.repeat(65)]) expect(() => grantRules({ ...grant, migration })).toThrow(/migration id/);
    for (const ttlS of [0, -1, 1.5, 3 * 24 * 3600]) expect(() => grantRules({ ...grant, ttlS })).toThrow(/lifetime/);
  });

  it("takes the strategies' lifetimes: a page server's, and a lazy source's that outlasts its whole serving", () => {
    for (const ttlS of [PAGE_GRANT_S, LAZY_GRANT_S]) expect(() => grantRules({ ...grant, ttlS })).not.toThrow();
    expect(LAZY_GRANT_S).toBeGreaterThan(LAZY_SERVE_S);
    expect(LAZY_GRANT_S).toBeLessThanOrEqual(MAX_GRANT_S);
  });
});

describe('revoke, remove, list', () => {
  it('deletes one element', () => {
    expect(revokeRules(grant)).toBe('delete element inet ferry grants4 { 10.247.0.11 . 27123 }\n');
    expect(() => revokeRules({ peer: 'x', port: 27123 })).toThrow(/IP address/);
  });

  it('removes the whole table', () => {
    expect(removeGuardRules()).toBe('delete table inet ferry\n');
  });

  it('lists a family as JSON', () => {
    expect(listGrantsArgv(4)).toEqual(['nft', '-j', 'list', 'set', 'inet', 'ferry', 'grants4']);
    expect(listGrantsArgv(6).at(-1)).toBe('grants6');
  });
});

describe('parseGrants', () => {
  // As nft 1.0.6 prints it (captured from a real host).
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
      {
        set: {
          family: 'inet',
          name: 'grants4',
          table: 'ferry',
          type: ['ipv4_addr', 'inet_service'],
          handle: 1,
          flags: ['timeout'],
          elem: [
            { elem: { val: { concat: ['10.99.77.1', 27600] }, timeout: 3600, expires: 3599, comment: 'ferry:m-abc' } },
            { elem: { val: { concat: ['10.99.77.3', 27601] }, timeout: 60, expires: 12, comment: 'ferry:m-def' } },
            { concat: ['10.99.77.4', 27602] },
          ],
        },
      },
    ],
  });

  it('reads every grant with its owner and expiry', () => {
    expect(parseGrants(json)).toEqual([
      { peer: '10.99.77.1', port: 27600, migration: 'm-abc', expiresS: 3599 },
      { peer: '10.99.77.3', port: 27601, migration: 'm-def', expiresS: 12 },
      { peer: '10.99.77.4', port: 27602 },
    ]);
  });

  it("picks one migration's grants", () => {
    expect(parseGrants(json, 'm-def')).toEqual([{ peer: '10.99.77.3', port: 27601, migration: 'm-def', expiresS: 12 }]);
    expect(parseGrants(json, 'm-none')).toEqual([]);
  });

  it('reads an empty set', () => {
    expect(parseGrants(JSON.stringify({ nftables: [{ metainfo: {} }, { set: { name: 'grants4' } }] }))).toEqual([]);
  });
});
