import { describe, expect, it } from 'vitest';
import { benchHosts } from '../../../src/app/bench.ts';
import { LabWan, sameLink } from '../../../src/infra/link/LabWan.ts';
import { LAN, parseLinkProfile, WAN } from '../../../src/infra/link/profile.ts';

const host = (name: string, cloud: string) => ({ name, cloud, address: '10.0.0.1', port: 22, user: 'root', privateKeyFile: '/k', hostKey: 'ssh-ed25519 AAAA', environment: 'local' });

describe('the benchmark on a two-cloud lab', () => {
  it('moves between the first host of each cloud, and between the first two hosts elsewhere', () => {
    const hosts = [host('a-1', 'cloud-a'), host('a-2', 'cloud-a'), host('b-1', 'cloud-b'), host('b-2', 'cloud-b')];
    expect(benchHosts({ hosts }, true)).toEqual(['a-1', 'b-1']);
    expect(benchHosts({ hosts }, false)).toEqual(['a-1', 'a-2']);
    // One cloud only (a lab of one host per cloud is the smallest two-cloud lab; one cloud is not one).
    expect(benchHosts({ hosts: [host('a-1', 'cloud-a'), host('a-2', 'cloud-a')] }, true)).toEqual(['a-1', 'a-2']);
  });

  it("takes the lab's WAN as it is, and refuses another profile with the command that gives it", async () => {
    const shaper = new LabWan(WAN);
    expect(await shaper.blocker(WAN)).toBeNull();
    expect(await shaper.blocker(parseLinkProfile('30,200'))).toBeNull(); // the same link, spelled out
    expect(sameLink(WAN, LAN)).toBe(false);
    expect(await shaper.blocker(LAN)).toMatch(/this two-cloud lab's WAN is wan: 30 ms round trip, 200 Mbit\/s.*ferry lab up --topology two-clouds --link lan/);
    expect(await shaper.apply()).toMatch(/^the two-cloud lab's WAN, wan: 30 ms round trip, 200 Mbit\/s/);
    await expect(shaper.clear()).resolves.toBeUndefined();
  });
});
