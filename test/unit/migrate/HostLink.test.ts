import fc from 'fast-check';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { keyOptions, LINK_KEY_S } from '../../../src/migrate/HostLink.ts';
import { catchFerry } from '../catch-ferry.ts';
import { hostilePiece, spliced } from '../hostile-text.ts';

/** 2026-12-01 18:59:30 UTC. */
const EXPIRES = new Date('2026-12-01T23:59:30+05:00');

/** The only shape a link key's options may have: three options, an IP address, a UTC minute. */
const SHAPE = /^restrict,from="([0-9A-Fa-f.:]+)",expiry-time="(\d{12})Z"$/;

describe('keyOptions (the link key in authorized_keys)', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('restricts the key, allows the peer only and expires in UTC, in OpenSSH\'s format', () => {
    expect(keyOptions({ name: 'lab-2', address: '10.247.0.12' }, EXPIRES)).toBe('restrict,from="10.247.0.12",expiry-time="202612011859Z"');
  });

  it('names the peer by the address the host sees it connect from: its peer address across a tunnel, not the controller\'s way in', () => {
    // A cloud host: the controller reaches it at its public address, its peers at its private one through WireGuard.
    expect(keyOptions({ name: 'aws-1', address: '203.0.113.5', peerAddress: '10.20.1.11' }, EXPIRES)).toBe('restrict,from="10.20.1.11",expiry-time="202612011859Z"');
    // A two-cloud lab host: one address on its cloud's bridge, reached from the other cloud unchanged (the gateways route, they do not NAT).
    expect(keyOptions({ name: 'b-1', address: '10.247.2.11', peerAddress: '10.247.2.11' }, EXPIRES)).toMatch(/,from="10\.247\.2\.11",/);
    expect(keyOptions({ name: 'gcp-1', address: '198.51.100.20', peerAddress: 'fd00:30::2' }, EXPIRES)).toMatch(/,from="fd00:30::2",/);
  });

  it('writes the expiry in UTC whatever the time zone, rounded down to the minute', () => {
    process.env.TZ = 'Asia/Kathmandu'; // +05:45: a local-time getter would be off by hours and minutes
    expect(keyOptions({ name: 'lab-2', address: '10.247.0.12' }, EXPIRES)).toMatch(/,expiry-time="202612011859Z"$/);
    process.env.TZ = 'America/St_Johns';
    expect(keyOptions({ name: 'lab-2', address: '10.247.0.12' }, new Date(Date.UTC(2027, 0, 1, 0, 0, 59)))).toMatch(/,expiry-time="202701010000Z"$/);
  });

  it('lasts a day when cleanup never runs', () => {
    expect(LINK_KEY_S).toBe(86_400);
  });

  it('refuses a peer without an IP address (sshd would never match a name), saying what to do', () => {
    for (const address of ['lab-2', 'ec2-203-0-113-10.compute-1.amazonaws.com', '', '10.0.0.*', '10.0.0.0/8', '*', 'fe80::1%eth0']) {
      const err = catchFerry(() => keyOptions({ name: 'lab-2', address }, EXPIRES), ErrorCode.ConfigInvalid);
      expect(err.message).toMatch(/IP address.*give the host an IP address/);
    }
  });

  it('refuses an expiry that is no date', () => {
    catchFerry(() => keyOptions({ name: 'lab-2', address: '10.247.0.12' }, new Date(Number.NaN)), ErrorCode.Internal);
    catchFerry(() => keyOptions({ name: 'lab-2', address: '10.247.0.12' }, new Date(Date.UTC(10000, 0, 1))), ErrorCode.Internal);
  });

  it('cannot be made to add options, widen from= or start another key, whatever the address or name holds', () => {
    const injections = [
      '10.0.0.1",command="sh',
      '10.0.0.1,*',
      '10.0.0.1" restrict',
      '10.0.0.1\nssh-ed25519 AAAA attacker',
      '10.0.0.1\r',
      '!10.0.0.1',
      '10.0.0.1 ',
      ' 10.0.0.1',
      '::ffff:10.0.0.1",permitopen="*:*',
    ];
    for (const address of injections) catchFerry(() => keyOptions({ name: 'lab-2', address }, EXPIRES), ErrorCode.ConfigInvalid);
    // The name is never part of the line.
    expect(keyOptions({ name: 'x",command="sh\nssh-ed25519 AAAA', address: '10.0.0.1' }, EXPIRES)).toBe('restrict,from="10.0.0.1",expiry-time="202612011859Z"');

    const ip = fc.oneof(fc.ipV4(), fc.ipV6());
    const text = fc.oneof(ip, spliced(ip), spliced(ip, hostilePiece), spliced(ip, fc.string({ minLength: 1, maxLength: 4 })), fc.string());
    fc.assert(
      fc.property(text, fc.option(text), (address, peerAddress) => {
        const peer = { name: 'lab-2', address, ...(peerAddress === null ? {} : { peerAddress }) };
        let line: string;
        try {
          line = keyOptions(peer, EXPIRES);
        } catch (e) {
          expect(e).toMatchObject({ code: ErrorCode.ConfigInvalid });
          return;
        }
        // Accepted: exactly the three options, from= holding the peer's one address and nothing else.
        const m = SHAPE.exec(line);
        expect(m, line).not.toBeNull();
        expect(m![1]).toBe(peerAddress ?? address);
        expect(net.isIP(m![1]!)).not.toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});
