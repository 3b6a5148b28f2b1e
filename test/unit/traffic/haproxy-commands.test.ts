import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { currentSessions, setAddr, setState } from '../../../src/traffic/haproxy-commands.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('HAProxy runtime API commands', () => {
  it('sets a server state and address', () => {
    expect(setState('web1', 'src', 'maint')).toBe('set server be_web1/src state maint');
    expect(setAddr('web1', 'dst', '10.247.0.12', 8080)).toBe('set server be_web1/dst addr 10.247.0.12 port 8080');
    expect(setAddr('web1', 'hold', 'fd00::1', 40000)).toBe('set server be_web1/hold addr fd00::1 port 40000');
  });

  it('refuses a DNS name (HAProxy takes an IP address) with TrafficInvalidTarget, naming the server and the address', () => {
    const e = catchFerry(() => setAddr('web1', 'dst', 'ec2-203-0-113-10.compute-1.amazonaws.com', 80), ErrorCode.TrafficInvalidTarget);
    expect(e.message).toBe("cannot point HAProxy's dst server of web1 at ec2-203-0-113-10.compute-1.amazonaws.com: not an IP address");
    expect(e.details).toEqual({ address: 'ec2-203-0-113-10.compute-1.amazonaws.com', port: 80 });
  });

  it.each([0, 65536, 1.5])('refuses port %j with TrafficInvalidTarget', (port) => {
    expect(catchFerry(() => setAddr('web1', 'hold', '10.0.0.1', port), ErrorCode.TrafficInvalidTarget).message).toContain(`port ${port}: use 1-65535`);
  });

  it("counts a backend's current sessions per server from `show stat`", () => {
    const csv = '# pxname,svname,qcur,qmax,scur\nbe_web1,src,0,0,3\nbe_web1,hold,0,0,1\nbe_web1,BACKEND,0,0,4\nbe_kv1,src,0,0,9\n';
    expect(currentSessions(csv, 'web1')).toEqual({ src: 3, hold: 1 });
  });
});
