/**
 * Just enough of the pcap format to ask "did these bytes cross the wire?": each TCP direction's
 * payload, reassembled in sequence order. Searching the raw capture file is not enough: a string
 * split across two segments has a packet header in the middle of it in the file.
 * Handles classic pcap (µs and ns, either byte order), Ethernet and Linux cooked (SLL) framing,
 * IPv4 and IPv6 without extension headers: what tcpdump writes on a veth.
 */
export interface TcpStream {
  /** `src:port>dst:port` */
  key: string;
  payload: Buffer;
  /** The first payload byte (0x16 is a TLS handshake record). */
  firstByte?: number;
}

export function tcpStreams(file: Buffer): TcpStream[] {
  if (file.length < 24) return [];
  const magicLE = file.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magicBE = file.readUInt32BE(0);
  if (!le && magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new Error('not a pcap file (use tcpdump -w, not pcapng)');
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);
  const segments = new Map<string, { seq: number; data: Buffer }[]>();
  for (let off = 24; off + 16 <= file.length; ) {
    const incl = u32(off + 8);
    const pkt = file.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let l3: Buffer;
    let etherType: number;
    if (linkType === 1) {
      let at = 12;
      etherType = pkt.readUInt16BE(at);
      while (etherType === 0x8100 && pkt.length >= at + 6) {
        at += 4;
        etherType = pkt.readUInt16BE(at);
      }
      l3 = pkt.subarray(at + 2);
    } else if (linkType === 113) {
      etherType = pkt.readUInt16BE(14);
      l3 = pkt.subarray(16);
    } else {
      throw new Error(`pcap link type ${linkType} is not handled`);
    }
    let src: string;
    let dst: string;
    let tcp: Buffer;
    if (etherType === 0x0800 && l3.length >= 20 && l3[9] === 6) {
      const ihl = (l3[0]! & 0x0f) * 4;
      const total = l3.readUInt16BE(2);
      src = [...l3.subarray(12, 16)].join('.');
      dst = [...l3.subarray(16, 20)].join('.');
      tcp = l3.subarray(ihl, total || undefined);
    } else if (etherType === 0x86dd && l3.length >= 40 && l3[6] === 6) {
      const plen = l3.readUInt16BE(4);
      src = v6(l3.subarray(8, 24));
      dst = v6(l3.subarray(24, 40));
      tcp = l3.subarray(40, 40 + plen);
    } else {
      continue;
    }
    if (tcp.length < 20) continue;
    const dataOff = (tcp[12]! >> 4) * 4;
    const data = tcp.subarray(dataOff);
    if (!data.length) continue;
    const key = `${src}:${tcp.readUInt16BE(0)}>${dst}:${tcp.readUInt16BE(2)}`;
    const list = segments.get(key) ?? [];
    list.push({ seq: tcp.readUInt32BE(4), data: Buffer.from(data) });
    segments.set(key, list);
  }
  const out: TcpStream[] = [];
  for (const [key, list] of segments) {
    // Sequence numbers relative to the first segment, so a wrap past 2^32 sorts right.
    const base = list[0]!.seq;
    const rel = list.map((s) => ({ at: (s.seq - base + 0x100000000) % 0x100000000, data: s.data })).sort((a, b) => a.at - b.at);
    const parts: Buffer[] = [];
    let next = 0;
    for (const s of rel) {
      const end = s.at + s.data.length;
      if (end <= next) continue; // a retransmission
      parts.push(s.data.subarray(Math.max(0, next - s.at)));
      next = end;
    }
    const payload = Buffer.concat(parts);
    out.push({ key, payload, firstByte: payload[0] });
  }
  return out;
}

function v6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}
