/**
 * The output contract every Terraform module of Ferry meets (terraform/CONTRACT.md), read once:
 * the same inventory rendering, engine and worker then serve every provider.
 */
import { ErrorCode, FerryError } from '../errors.ts';
import { NAME_PATTERN } from '../util/names.ts';

/** One host of an environment, as its module's `hosts` output describes it. */
export interface ModuleHost {
  /** Ferry's name for the host (`^[a-z][a-z0-9-]{0,30}$`), unique in the environment. */
  name: string;
  /** What the controller's SSH reaches: an IP address or a DNS name. */
  address: string;
  /** The host's SSH port. */
  port: number;
  /** The SSH user Ferry logs in as. */
  user: string;
  /** Absolute path on the controller of the host's SSH public key: Ferry pins it, never trusting on first use. */
  hostKeyFile: string;
  /**
   * The provider that made the host (`local`, `qemu`, `aws`, `gcp`, or whichever a new module names):
   * a name, `^[a-z][a-z0-9-]{0,30}$`. The reader keeps no list, so a new environment is one module
   * plus one provider file, and this reader stays as it is.
   */
  provider: string;
  /** The site or cloud the host is in (`cloud-a`); a one-site environment names it after its provider. */
  cloud: string;
  /** The address other hosts use to reach this one (a private address across the tunnel). @defaultValue `address` */
  peerAddress: string;
  /**
   * Where this host reaches the controller (the hold server listens there), when it differs per
   * host: a two-cloud lab's controller has an address on each cloud's bridge.
   * @defaultValue the module's `controller_address`
   */
  controllerAddress: string | null;
}

/** The outputs of a module that Ferry uses. */
export interface ModuleOutputs {
  /** The environment's name (`local`, `qemu`, `aws`, `gcp`, `two-clouds`, or the name it was created under). */
  environment: string;
  /** Where the hosts reach the controller (the hold server), or null where they cannot. */
  controllerAddress: string | null;
  /** Every host of the environment, names unique. */
  hosts: ModuleHost[];
}

/** A value's type in Terraform's terms. */
export type ContractType = 'string' | 'number' | 'list';

/**
 * The outputs Ferry reads, with their types: the table of terraform/CONTRACT.md that
 * {@link parseModuleOutputs} enforces (its test holds the two together) and the static test holds
 * every module's HCL to. Terraform stores no null output, so `controller_address` may be missing.
 */
export const MODULE_OUTPUTS = {
  environment: { type: 'string', required: true },
  controller_address: { type: 'string', required: false },
  hosts: { type: 'list', required: true },
} as const satisfies Record<string, { type: ContractType; required: boolean }>;

/** The fields of each object in `hosts`, with their types; an optional one may be missing or null (its default then). */
export const HOST_FIELDS = {
  name: { type: 'string', required: true },
  address: { type: 'string', required: true },
  port: { type: 'number', required: true },
  user: { type: 'string', required: true },
  host_key_file: { type: 'string', required: true },
  provider: { type: 'string', required: true },
  cloud: { type: 'string', required: true },
  peer_address: { type: 'string', required: false },
  controller_address: { type: 'string', required: false },
} as const satisfies Record<string, { type: ContractType; required: boolean }>;

// An IPv4 or IPv6 address or a DNS name: the value lands in ssh arguments and inventory lines,
// so nothing that could be read as an option or split a line.
const ADDRESS = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.:-]*[A-Za-z0-9])?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** `json` is the parsed output of `terraform output -json` of a module. */
export function parseModuleOutputs(json: unknown, source: string): ModuleOutputs {
  const bad = (field: string, what: string, got?: unknown) =>
    new FerryError(
      ErrorCode.ConfigInvalid,
      `Terraform module ${source}: output '${field}' ${what}${got === undefined ? '' : ` (got ${show(got)})`}; see terraform/CONTRACT.md`,
      { details: { module: source, field } },
    );
  if (!isRecord(json)) {
    throw new FerryError(ErrorCode.ConfigInvalid, `Terraform module ${source}: expected the JSON object of \`terraform output -json\` (got ${show(json)})`, {
      details: { module: source },
    });
  }
  // `terraform output -json` wraps each output as { value, type, sensitive }; a null output is not stored at all.
  const value = (name: string): unknown => {
    const o = json[name];
    if (o === undefined) return undefined;
    if (!isRecord(o) || !('value' in o)) throw bad(name, 'must be an output object with a `value`', o);
    return o.value;
  };

  const environment = value('environment');
  if (environment === undefined) throw bad('environment', 'is missing');
  if (typeof environment !== 'string' || environment === '') throw bad('environment', 'must be a non-empty string', environment);

  const controller = value('controller_address') ?? null;
  if (controller !== null && !(typeof controller === 'string' && ADDRESS.test(controller))) {
    throw bad('controller_address', 'must be an IP address or DNS name, or null', controller);
  }

  const list = value('hosts');
  if (list === undefined) throw bad('hosts', 'is missing');
  if (!Array.isArray(list)) throw bad('hosts', 'must be a list of host objects', list);
  const hosts = list.map((h: unknown, i): ModuleHost => {
    const at = `hosts[${i}]`;
    if (!isRecord(h)) throw bad(at, 'must be an object', h);
    const field = (k: string, ok: (v: unknown) => boolean, what: string): unknown => {
      const v = h[k];
      if (v === undefined || v === null) throw bad(`${at}.${k}`, 'is missing');
      if (!ok(v)) throw bad(`${at}.${k}`, what, v);
      return v;
    };
    const text = (k: string, re: RegExp, what: string) => field(k, (v) => typeof v === 'string' && re.test(v), what) as string;
    const address = text('address', ADDRESS, 'must be an IP address or DNS name');
    const peer = h.peer_address;
    const ctl = h.controller_address;
    return {
      name: text('name', NAME_PATTERN, `must match ${NAME_PATTERN}`),
      address,
      port: field('port', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535, 'must be an integer 1-65535') as number,
      user: text('user', USER, 'must be a user name'),
      hostKeyFile: text('host_key_file', /^\/[^\n\0]*$/, "must be an absolute path on the controller (the host's SSH public key)"),
      provider: text('provider', NAME_PATTERN, `must be a provider's name (local, qemu, aws, gcp, …) matching ${NAME_PATTERN}`),
      cloud: text('cloud', NAME_PATTERN, `must match ${NAME_PATTERN}`),
      peerAddress: peer === undefined || peer === null ? address : text('peer_address', ADDRESS, 'must be an IP address or DNS name, or null'),
      controllerAddress: ctl === undefined || ctl === null ? controller : text('controller_address', ADDRESS, 'must be an IP address or DNS name, or null'),
    };
  });
  const seen = new Set<string>();
  hosts.forEach((h, i) => {
    if (seen.has(h.name)) throw bad(`hosts[${i}].name`, `repeats '${h.name}': host names must be unique in an environment`);
    seen.add(h.name);
  });
  return { environment, controllerAddress: controller, hosts };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
