/**
 * The engine's port for client traffic: what it calls around the freeze. The engine defines it and
 * knows nothing of HAProxy; src/traffic implements it (HAProxy's runtime API, the hold server).
 */
export interface TrafficHooks {
  /** The host whose front (HAProxy) this drives: recorded in the journal, so recovery can set it right. */
  readonly frontHost: string;
  /** Before anything freezes: check the front and start helpers. */
  prepare?(): Promise<void>;
  /** Before the freeze: stop sending requests to the source, drain what is in flight. */
  beforeFreeze(): Promise<void>;
  /** The target passed its health check: send traffic there. */
  switchTo(target: { address: string; port: number }): Promise<void>;
  /** Rolled back: send traffic to the source again. */
  restore(source: { address: string; port: number }): Promise<void>;
  /** Stop whatever this switch started (the hold server). */
  close(): Promise<void>;
  /** A line for the report. */
  describe(): string;
}
