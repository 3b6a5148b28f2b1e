#!/usr/bin/env node
// The WAN of a two-cloud lab (terraform/lib/wan.sh): a UDP relay between the two gateways'
// WireGuard endpoints that holds every datagram for half the round trip and drops a share of
// them, since this machine's kernel has no netem. All traffic between the clouds is WireGuard
// UDP, so delaying the datagrams delays everything inside the tunnel by exactly that much.
// The rate is not the relay's business: HTB shapes both gateways' WAN interfaces.
//
//   node wan-relay.mjs --a LISTEN --a-peer ENDPOINT --b LISTEN --b-peer ENDPOINT
//                      [--delay-ms D] [--loss-pct L] [--limit N]
//
// LISTEN and ENDPOINT are ADDRESS:PORT (IPv4). A datagram arriving on side a from a's peer leaves
// by side b towards b's peer D ms later, and the other way round; datagrams from anyone else are
// dropped. Each direction queues at most N datagrams (a router's buffer); beyond that, drops.
// Prints "relay ready" on stdout once both sides listen; exits 0 on SIGTERM or SIGINT.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const USAGE = 'usage: wan-relay.mjs --a ADDR:PORT --a-peer ADDR:PORT --b ADDR:PORT --b-peer ADDR:PORT [--delay-ms D] [--loss-pct L] [--limit N]';

function fail(msg) {
  process.stderr.write(`wan-relay: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function endpoint(name, s) {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s ?? '');
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(`--${name} must be IPV4:PORT (got '${s ?? ''}')`);
  return { address: m[1], port: Number(m[2]) };
}

function number(name, s, dflt, max) {
  if (s === undefined) return dflt;
  if (!/^\d+(\.\d+)?$/.test(s) || Number(s) > max) fail(`--${name} must be a number from 0 to ${max} (got '${s}')`);
  return Number(s);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      a: { type: 'string' },
      'a-peer': { type: 'string' },
      b: { type: 'string' },
      'b-peer': { type: 'string' },
      'delay-ms': { type: 'string' },
      'loss-pct': { type: 'string' },
      limit: { type: 'string' },
    },
  }));
} catch (e) {
  fail(e.message);
}

const delayMs = number('delay-ms', values['delay-ms'], 0, 10_000);
const loss = number('loss-pct', values['loss-pct'], 0, 99.999) / 100;
const limit = number('limit', values.limit, 10_000, 1_000_000);
const sides = ['a', 'b'].map((n) => ({ name: n, listen: endpoint(n, values[n]), peer: endpoint(`${n}-peer`, values[`${n}-peer`]), socket: dgram.createSocket('udp4') }));

/**
 * One direction: a FIFO of datagrams with the time each may leave. The delay is the same for all,
 * so the head always leaves first and one timer serves the whole queue.
 */
function direction(out) {
  const queue = [];
  let head = 0;
  let timer = null;
  const flush = () => {
    timer = null;
    const now = performance.now();
    while (head < queue.length && queue[head].due <= now) {
      out.socket.send(queue[head].msg, out.peer.port, out.peer.address);
      queue[head++] = undefined;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else {
      if (head > 4096) {
        queue.splice(0, head);
        head = 0;
      }
      // Timers may fire early by a fraction of a millisecond: round up, never send before due.
      timer = setTimeout(flush, Math.ceil(queue[head].due - now));
    }
  };
  return (msg) => {
    if (loss > 0 && Math.random() < loss) return;
    if (delayMs === 0) {
      out.socket.send(msg, out.peer.port, out.peer.address);
      return;
    }
    if (queue.length - head >= limit) return;
    queue.push({ msg, due: performance.now() + delayMs });
    if (timer === null) timer = setTimeout(flush, Math.ceil(delayMs));
  };
}

const [a, b] = sides;
const toB = direction(b);
const toA = direction(a);
for (const [side, forward] of [
  [a, toB],
  [b, toA],
]) {
  side.socket.on('message', (msg, from) => {
    // Only the gateway on this side may use the WAN: anything else is not our traffic.
    if (from.address === side.peer.address && from.port === side.peer.port) forward(msg);
  });
  side.socket.on('error', (e) => {
    process.stderr.write(`wan-relay: side ${side.name} (${side.listen.address}:${side.listen.port}): ${e.message}\n`);
    process.exit(1);
  });
}

await Promise.all(sides.map((s) => new Promise((resolve) => s.socket.bind(s.listen.port, s.listen.address, resolve))));
process.stdout.write(`relay ready: ${a.listen.address}:${a.listen.port} <-> ${b.listen.address}:${b.listen.port}, ${delayMs} ms each way, ${loss * 100} % loss each way\n`);

const stop = () => {
  for (const s of sides) s.socket.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
