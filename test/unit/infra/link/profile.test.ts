import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.ts';
import { LAN, WAN, describeProfile, needsDelayOrLoss, parseLinkProfile } from '../../../../src/infra/link/profile.ts';
import { catchFerry } from '../../catch-ferry.ts';

describe('parseLinkProfile', () => {
  it('knows lan and wan (30 ms, 200 Mbit/s), in any case', () => {
    expect(parseLinkProfile('lan')).toEqual(LAN);
    expect(parseLinkProfile(' WAN ')).toEqual({ name: 'wan', rttMs: 30, mbit: 200, lossPct: 0 });
    expect(WAN).toEqual({ name: 'wan', rttMs: 30, mbit: 200, lossPct: 0 });
  });

  it('reads rtt,mbit and rtt,mbit,loss and names them for file names', () => {
    expect(parseLinkProfile('30,200')).toEqual({ name: '30ms-200mbit', rttMs: 30, mbit: 200, lossPct: 0 });
    expect(parseLinkProfile('0,100,0.5')).toEqual({ name: '0ms-100mbit-0.5loss', rttMs: 0, mbit: 100, lossPct: 0.5 });
    expect(parseLinkProfile('12.5, 1000 ,0')).toEqual({ name: '12.5ms-1000mbit', rttMs: 12.5, mbit: 1000, lossPct: 0 });
  });

  it('refuses other spellings, saying the syntax', () => {
    for (const bad of ['', 'fast', '30', '30,200,1,2', '30,,1', 'a,200', '-5,200', '1e3,200', '30,0x10', '30,200,abc']) {
      const e = catchFerry(() => parseLinkProfile(bad), ErrorCode.UsageError);
      expect(e.message).toContain('--link takes lan, wan, or RTT-MS,MBIT[,LOSS-%]');
    }
  });

  it('refuses values no link has', () => {
    expect(catchFerry(() => parseLinkProfile('30,0'), ErrorCode.UsageError).message).toContain('rate must be above 0');
    expect(catchFerry(() => parseLinkProfile('30,200000'), ErrorCode.UsageError).message).toContain('at most 100,000');
    expect(catchFerry(() => parseLinkProfile('20000,200'), ErrorCode.UsageError).message).toContain('10,000 ms at most');
    expect(catchFerry(() => parseLinkProfile('30,200,100'), ErrorCode.UsageError).message).toContain('below 100');
  });
});

describe('describeProfile and needsDelayOrLoss', () => {
  it('says what a profile is', () => {
    expect(describeProfile(LAN)).toBe("lan (the lab's bare link, unshaped)");
    expect(describeProfile(WAN)).toBe('wan: 30 ms round trip, 200 Mbit/s');
    expect(describeProfile(parseLinkProfile('0,100,0.5'))).toBe('0ms-100mbit-0.5loss: 0 ms round trip, 100 Mbit/s, 0.5 % loss each way');
  });

  it('tells rate-only profiles from those needing netem', () => {
    expect(needsDelayOrLoss(LAN)).toBe(false);
    expect(needsDelayOrLoss(parseLinkProfile('0,200'))).toBe(false);
    expect(needsDelayOrLoss(WAN)).toBe(true);
    expect(needsDelayOrLoss(parseLinkProfile('0,200,1'))).toBe(true);
  });
});
