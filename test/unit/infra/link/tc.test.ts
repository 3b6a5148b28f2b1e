import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.ts';
import { LAN, WAN, parseLinkProfile } from '../../../../src/infra/link/profile.ts';
import { UNSHAPED_RATE, clearArgv, isNothingToClear, isUnknownQdisc, netemLimit, parseRouteDev, shapeArgv } from '../../../../src/infra/link/tc.ts';
import { catchFerry } from '../../catch-ferry.ts';

const target = { dev: 'eth0', peers: ['10.247.0.12'] };

describe('shapeArgv', () => {
  it('gives nothing to do for lan', () => {
    expect(shapeArgv(target, LAN)).toEqual([]);
  });

  it('shapes only traffic to the peer, at the profile rate, with an unshaped default class', () => {
    expect(shapeArgv(target, parseLinkProfile('0,200'))).toEqual([
      ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'htb', 'default', '1'],
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', UNSHAPED_RATE],
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '200mbit', 'ceil', '200mbit'],
      ['tc', 'filter', 'add', 'dev', 'eth0', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', '10.247.0.12/32', 'flowid', '1:10'],
    ]);
  });

  it('adds netem with half the round trip (the peer adds the other half) and the loss', () => {
    const cmds = shapeArgv(target, parseLinkProfile('30,200,0.5'));
    const netem = cmds.find((c) => c.includes('netem'))!;
    expect(netem).toEqual(['tc', 'qdisc', 'add', 'dev', 'eth0', 'parent', '1:10', 'handle', '10:', 'netem', 'limit', '1000', 'delay', '15ms', 'loss', '0.5%']);
    // netem hangs under the shaped class, before the filter sends traffic there
    expect(cmds.indexOf(netem)).toBeGreaterThan(cmds.findIndex((c) => c.includes('1:10') && c.includes('class')));
    expect(cmds.at(-1)).toContain('filter');
  });

  it('has netem hold enough packets for a long fat link', () => {
    expect(netemLimit(200, 15)).toBe(1000);
    expect(netemLimit(10_000, 100)).toBe(Math.ceil(((10_000e6 * 0.1) / 8 / 1500) * 4));
    expect(netemLimit(null, 100)).toBe(1000);
    const wan = shapeArgv(target, WAN).find((c) => c.includes('netem'))!;
    expect(wan.slice(wan.indexOf('delay'))).toEqual(['delay', '15ms']);
  });

  it('matches every peer, IPv6 too', () => {
    const cmds = shapeArgv({ dev: 'ens3', peers: ['10.0.0.2', 'fd00::2'] }, parseLinkProfile('0,50'));
    const filters = cmds.filter((c) => c.includes('filter'));
    expect(filters.map((f) => f.slice(f.indexOf('protocol'), f.indexOf('protocol') + 2))).toEqual([
      ['protocol', 'ip'],
      ['protocol', 'ipv6'],
    ]);
    expect(filters[1]).toContain('fd00::2/128');
    expect(filters[1]).toContain('ip6');
  });

  it('refuses interface names and peers tc must not be handed', () => {
    catchFerry(() => shapeArgv({ dev: 'eth0; reboot', peers: ['10.0.0.2'] }, WAN), ErrorCode.LinkShapingFailed);
    catchFerry(() => shapeArgv({ dev: 'averyveryverylongname', peers: ['10.0.0.2'] }, WAN), ErrorCode.LinkShapingFailed);
    const e = catchFerry(() => shapeArgv({ dev: 'eth0', peers: ['lab-2.example'] }, WAN), ErrorCode.LinkShapingFailed);
    expect(e.message).toContain('not an IP address');
    catchFerry(() => clearArgv('-x'), ErrorCode.LinkShapingFailed);
  });
});

describe('tc answers', () => {
  it('removes the root qdisc to clear', () => {
    expect(clearArgv('eth0')).toEqual(['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
  });

  it('treats "nothing there" as cleared', () => {
    expect(isNothingToClear('Error: Cannot delete qdisc with handle of zero.')).toBe(true);
    expect(isNothingToClear('RTNETLINK answers: No such file or directory')).toBe(true);
    expect(isNothingToClear('RTNETLINK answers: Operation not permitted')).toBe(false);
  });

  it('recognises a kernel without netem', () => {
    expect(isUnknownQdisc('Error: Specified qdisc kind is unknown.')).toBe(true);
    expect(isUnknownQdisc('RTNETLINK answers: Invalid argument')).toBe(false);
  });

  it('reads the interface of ip route get', () => {
    expect(parseRouteDev('10.247.0.12 dev eth0 src 10.247.0.11 uid 0 \\    cache ')).toBe('eth0');
    expect(parseRouteDev('local 10.247.0.11 dev lo table local src 10.247.0.11 uid 0')).toBe('lo');
    expect(parseRouteDev('RTNETLINK answers: Network is unreachable')).toBeNull();
  });
});
