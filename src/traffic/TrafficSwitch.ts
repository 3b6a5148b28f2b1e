import type { RemoteHost } from '../hosts/RemoteHost.ts';
import type { TrafficHooks } from '../migrate/traffic-hooks.ts';
import { HoldServer, type HoldServerOptions } from './HoldServer.ts';
import { SHOW_STAT, currentSessions, setAddr, setState, socketOf } from './haproxy-commands.ts';

export interface TrafficSwitchOptions {
  container: string;
  /** The host whose HAProxy fronts the container (the source). */
  front: RemoteHost;
  /** Hold requests on the controller during the freeze (else clients see errors while it is down). */
  hold: boolean;
  /** Address the hold server listens on, reachable from the front host (the controller's lab address). */
  holdListen?: string;
  holdOptions?: HoldServerOptions;
  /** How long to wait for in-flight requests to the source to finish before the freeze. @defaultValue 10 s */
  drainTimeoutMs?: number;
}

/**
 * Drives HAProxy's runtime API on the source host. With `hold`, requests arriving during the
 * freeze wait in Ferry's hold server and are forwarded to the restored container, so clients
 * see a delay instead of an error.
 */
export class TrafficSwitch implements TrafficHooks {
  private holdServer?: HoldServer;

  constructor(private readonly o: TrafficSwitchOptions) {}

  get frontHost(): string {
    return this.o.front.name;
  }

  private async api(...commands: string[]): Promise<string> {
    let out = '';
    for (const c of commands) {
      // Runtime API commands set a state or an address: sending one twice does no harm, so a
      // dropped connection to the front is ridden out by sending it again.
      out += await this.o.front.run(['socat', 'stdio', `unix-connect:${socketOf(this.o.container)}`], { stdin: `${c}\n`, timeoutS: 15, idempotent: true });
    }
    return out;
  }

  /** Starts the hold server and points HAProxy's hold server entry at it (before anything freezes). */
  async prepare(): Promise<void> {
    await this.api(SHOW_STAT); // fails early, with the host named, when HAProxy is not there
    if (!this.o.hold) return;
    this.holdServer = new HoldServer(this.o.holdOptions);
    const addr = await this.holdServer.listen(0, this.o.holdListen ?? '0.0.0.0');
    await this.api(setAddr(this.o.container, 'hold', this.o.holdListen ?? addr.host, addr.port));
  }

  async beforeFreeze(): Promise<void> {
    const c = this.o.container;
    // New requests: to the hold server (or nowhere); the source finishes what it has.
    if (this.o.hold) await this.api(setState(c, 'hold', 'ready'));
    await this.api(setState(c, 'src', 'maint'));
    const deadline = Date.now() + (this.o.drainTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      const s = currentSessions(await this.api(SHOW_STAT), c);
      if ((s.src ?? 0) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async switchTo(target: { address: string; port: number }): Promise<void> {
    const c = this.o.container;
    this.holdServer?.release({ host: target.address, port: target.port });
    await this.api(setAddr(c, 'dst', target.address, target.port), setState(c, 'dst', 'ready'), setState(c, 'hold', 'maint'));
  }

  async restore(source: { address: string; port: number }): Promise<void> {
    const c = this.o.container;
    this.holdServer?.release({ host: source.address, port: source.port });
    await this.api(setState(c, 'src', 'ready'), setState(c, 'hold', 'maint'), setState(c, 'dst', 'maint'));
  }

  stats() {
    return this.holdServer?.stats();
  }

  async close(): Promise<void> {
    await this.holdServer?.close();
  }

  describe(): string {
    const s = this.holdServer?.stats();
    return this.o.hold
      ? `HAProxy on ${this.o.front.name} with the hold server: ${s?.forwarded ?? 0} requests held and forwarded, ${s?.expired ?? 0} expired, ${s?.rejected ?? 0} rejected`
      : `HAProxy on ${this.o.front.name}, switched without holding`;
  }
}
