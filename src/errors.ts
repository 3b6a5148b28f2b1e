/**
 * One coded error for everything a user can see. Callers switch on `code`, never on message text;
 * the code survives the queue (a failed BullMQ job keeps it, see {@link encodeError}) and chat and
 * CLI render from it. Messages say what went wrong and what to do.
 */
export enum ErrorCode {
  ConfigInvalid = 'ferry_config_invalid',
  InvalidName = 'ferry_invalid_name',
  /** A command (a `ferry` command line, a `/migrate` text) Ferry cannot read: the message names the problem, then shows the usage. */
  UsageError = 'ferry_usage',
  UnknownHost = 'ferry_unknown_host',
  UnknownGroup = 'ferry_unknown_group',
  NoTargetInGroup = 'ferry_no_target_in_group',
  /** A host the inventory lists but Ferry will not connect to (no pinned host key, …): `HostSpec.unusable` says why. */
  HostUnusable = 'ferry_host_unusable',
  /** `ansible-inventory` (or `ansible-vault` for a vaulted variable) failed or printed something unreadable. */
  InventoryFailed = 'ferry_inventory_failed',
  LabNotUp = 'ferry_lab_not_up',
  CommandFailed = 'ferry_command_failed',
  CommandTimedOut = 'ferry_command_timed_out',
  SshConnectFailed = 'ferry_ssh_connect_failed',
  /** An established SSH connection dropped (the command's outcome on the host is unknown). */
  SshConnectionLost = 'ferry_ssh_connection_lost',
  SshHostKeyMismatch = 'ferry_ssh_host_key_mismatch',
  ContainerNotFound = 'ferry_container_not_found',
  ContainerExists = 'ferry_container_exists',
  MethodUnsupported = 'ferry_method_unsupported',
  UnknownMethod = 'ferry_unknown_method',
  PreflightFailed = 'ferry_preflight_failed',
  MigrationFailed = 'ferry_migration_failed',
  RolledBack = 'ferry_rolled_back',
  RollbackFailed = 'ferry_rollback_failed',
  HealthCheckFailed = 'ferry_health_check_failed',
  Cancelled = 'ferry_cancelled',
  /** The container or group has an active migration. details: subject (`web1`, `group blog`) or container, existingId (its job). */
  AlreadyMigrating = 'ferry_already_migrating',
  /** The migration id was started once already: it is never run twice. */
  AlreadyStarted = 'ferry_already_started',
  ProvisionFailed = 'ferry_provision_failed',
  /** A team's pre_migrate hook playbook failed (or timed out): nothing was frozen. details: hook, playbook, tail (its last output lines). */
  HookFailed = 'ferry_hook_failed',
  /** `runc checkpoint` (CRIU dump or pre-dump) failed; details.criuLog holds CRIU's error lines. */
  CriuDumpFailed = 'ferry_criu_dump_failed',
  /** `runc restore` failed; details.criuLog holds CRIU's error lines. */
  CriuRestoreFailed = 'ferry_criu_restore_failed',
  /** CRIU's page server or lazy-pages daemon could not start or ended badly. */
  CriuPageServerFailed = 'ferry_criu_page_server_failed',
  RedisUnavailable = 'ferry_redis_unavailable',
  /** The chat policy file (FERRY_POLICY_FILE) cannot be read, is not JSON, or breaks a rule: the message names the field. */
  PolicyInvalid = 'ferry_policy_invalid',
  /** The chat platform could not say which user groups someone belongs to (Slack's `usergroups.list` failed). */
  GroupsUnavailable = 'ferry_groups_unavailable',
  /** The page-port firewall (nftables) could not be set on a host, or a peer has no IP address. */
  FirewallFailed = 'ferry_firewall_failed',
  /** The environment's PKI (CA, host certificates) could not be made, or a host lacks its files. */
  PkiFailed = 'ferry_pki_failed',
  /** An option of the hold server or the load probe out of its range (a count or a time that must be positive, a URL that must be http://). details: option. */
  TrafficInvalidOption = 'ferry_traffic_invalid_option',
  /** Where held requests or HAProxy should go is not a usable address and port (HAProxy's runtime API takes only an IP address). details: address, port. */
  TrafficInvalidTarget = 'ferry_traffic_invalid_target',
  /** A queued job without a valid signature (unsigned, altered, signed with another key, or too old): refused unrun. */
  JobSignatureInvalid = 'ferry_job_signature_invalid',
  /** A broken invariant inside Ferry (a bug): the message says which. */
  Internal = 'ferry_internal',
  ChartFontMissing = 'ferry_chart_font_missing',
  ChartInvalid = 'ferry_chart_invalid',
  ChartRenderFailed = 'ferry_chart_render_failed',
  /** An image archive or layout that skopeo/umoci cannot read, or one that needs a reference to pick an image. */
  ImageInvalid = 'ferry_image_invalid',
  /** A bundle or rootfs given to deploy that is not usable (no config.json, root outside the bundle, no command). */
  BundleInvalid = 'ferry_bundle_invalid',
  /** A program Ferry needs on the controller (terraform, ansible-playbook, skopeo, umoci, rsync, …) is not installed. */
  ToolMissing = 'ferry_tool_missing',
  /** Copying or starting a container on its host failed. */
  DeployFailed = 'ferry_deploy_failed',
  /** The container asks for a terminal: CRIU cannot dump a console that lives outside the container. */
  RefusedTerminal = 'ferry_refused_terminal',
  /** A bind mount of a host path: the target host has other contents there (or none). */
  RefusedBindMount = 'ferry_refused_bind_mount',
  /** A device node or open device file beyond the default set (/dev/null, zero, full, random, urandom, tty, pts). */
  RefusedDevice = 'ferry_refused_device',
  /** A user namespace that shifts ids, or a namespace joined by path: external to the container, CRIU cannot recreate it elsewhere. */
  RefusedNamespace = 'ferry_refused_namespace',
  /** A process holds an io_uring instance, which CRIU cannot dump. */
  RefusedIoUring = 'ferry_refused_io_uring',
  /** A socket CRIU cannot dump (unknown family such as MPTCP or SCTP, a unix connection to a peer outside the container). */
  RefusedSocket = 'ferry_refused_socket',
  /** An open file of a kind CRIU cannot dump (perf events, userfaultfd, BPF programs, ...). */
  RefusedFile = 'ferry_refused_file',
  /** A mount in the running container that neither its config nor CRIU can recreate on the target. */
  RefusedMount = 'ferry_refused_mount',
  /** Not enough disk on the host for the checkpoint images. */
  InsufficientDisk = 'ferry_insufficient_disk',
  RootfsBuildFailed = 'ferry_rootfs_build_failed',
  /** A link profile the lab cannot emulate (a round-trip delay or loss without netem). */
  LinkUnsupported = 'ferry_link_unsupported',
  /** `tc` refused to shape (or unshape) a host's link. */
  LinkShapingFailed = 'ferry_link_shaping_failed',
  /** iperf3 between two hosts failed or printed something unreadable. */
  LinkMeasureFailed = 'ferry_link_measure_failed',
  /** The benchmark's peer (Podman) is missing on a host. */
  PeerUnavailable = 'ferry_peer_unavailable',
  /** The peer's checkpoint, copy or restore failed. */
  PeerFailed = 'ferry_peer_failed',
}

export type ErrorDetails = Record<string, unknown>;

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly original?: unknown;
  /** JSON-safe extras (host, argv, exit code, CRIU log excerpt); they travel through the queue. */
  readonly details?: ErrorDetails;

  constructor(code: ErrorCode, message: string, opts: { original?: unknown; details?: ErrorDetails } = {}) {
    super(message);
    this.name = 'FerryError';
    this.code = code;
    this.original = opts.original;
    this.details = opts.details;
  }

  toJSON(): SerializedError {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export function isFerryError(e: unknown, code?: ErrorCode): e is FerryError {
  return e instanceof FerryError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** Any thrown value as a FerryError: a foreign error becomes `Internal`, keeping its message. */
export function toFerryError(e: unknown, fallback: ErrorCode = ErrorCode.Internal): FerryError {
  if (e instanceof FerryError) return e;
  return new FerryError(fallback, errorMessage(e), { original: e });
}

/**
 * BullMQ keeps only a string for a failed job (`failedReason`): the error goes there as JSON behind
 * a marker, so the bot and `ferry` read the code back instead of matching the text.
 */
const MARK = 'ferry-error:';

export function encodeError(e: unknown): string {
  return MARK + JSON.stringify(toFerryError(e).toJSON());
}

/** The inverse of {@link encodeError}; text from elsewhere (an older worker, BullMQ itself) keeps its words under `fallback`. */
export function decodeError(text: string, fallback: ErrorCode = ErrorCode.MigrationFailed): FerryError {
  if (text.startsWith(MARK)) {
    try {
      const j = JSON.parse(text.slice(MARK.length)) as Partial<SerializedError>;
      if (typeof j.code === 'string' && CODES.has(j.code) && typeof j.message === 'string') {
        const details = j.details && typeof j.details === 'object' ? (j.details as ErrorDetails) : undefined;
        return new FerryError(j.code as ErrorCode, j.message, details ? { details } : {});
      }
    } catch {
      // fall through: not ours after all
    }
  }
  return new FerryError(fallback, text);
}

/** What a user should do about each kind of failure: one line, rendered beside the message in chat and CLI. */
export const ERROR_HINTS: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.ConfigInvalid]: 'fix the named setting and start again',
  [ErrorCode.InvalidName]: 'names are lower-case letters, digits and dashes, starting with a letter',
  [ErrorCode.UnknownHost]: "check the host name against 'ferry hosts'",
  [ErrorCode.UnknownGroup]: "check the group against the inventory's groups ('ansible-inventory --graph'); a hosts.json has none: set FERRY_INVENTORY",
  [ErrorCode.NoTargetInGroup]: 'nothing was touched: the message says why each member was passed over; fix one of them, or name a host as the target',
  [ErrorCode.LabNotUp]: "run 'ferry lab up' (or point FERRY_HOSTS_FILE / FERRY_INVENTORY at your hosts)",
  [ErrorCode.SshConnectFailed]: 'check that the host is up and its sshd reachable from the controller',
  [ErrorCode.SshConnectionLost]: "the network dropped mid-command; 'ferry recover' reconciles anything left half-done",
  [ErrorCode.SshHostKeyMismatch]: 'the host key changed: verify the host before updating the recorded key',
  [ErrorCode.ContainerNotFound]: "see where it runs with 'ferry ps'",
  [ErrorCode.ContainerExists]: "remove the other copy first ('ferry rm'), or pick another target",
  [ErrorCode.MethodUnsupported]: "pick another method, or 'auto' to let Ferry choose",
  [ErrorCode.UnknownMethod]: "see 'ferry migrate --help' for the methods",
  [ErrorCode.AlreadyMigrating]: 'wait for the running migration, or cancel it',
  [ErrorCode.CriuDumpFailed]: "nothing moved; CRIU's own words are above",
  [ErrorCode.CriuRestoreFailed]: "the container was brought back on its source; CRIU's own words are above",
  [ErrorCode.RollbackFailed]: "run 'ferry recover': it finishes or undoes what a failed migration left",
  [ErrorCode.HookFailed]: "nothing was frozen: fix what the hook's playbook reports (its output is above), then ask again",
  [ErrorCode.RedisUnavailable]: 'check REDIS_URL and that Redis is up',
  [ErrorCode.PolicyInvalid]: 'fix the named field in the policy file (FERRY_POLICY_FILE), then start Ferry again',
  [ErrorCode.TrafficInvalidTarget]: "check the host's address in the inventory (an IP address: HAProxy's runtime API takes no DNS names) and the container's port",
  [ErrorCode.GroupsUnavailable]: "check the Slack app's usergroups:read scope and Slack's status, then try again",
  [ErrorCode.FirewallFailed]: "run 'ferry provision' (it installs nftables), and give hosts IP addresses",
  [ErrorCode.PkiFailed]: "run 'ferry pki' and 'ferry provision': they make and install the certificates",
  [ErrorCode.JobSignatureInvalid]: 'give the bot and every worker the same FERRY_JOB_KEY_FILE (or FERRY_JOB_KEY); a job that fails anyway was not made by the bot',
  [ErrorCode.Internal]: 'this is a bug in Ferry: please report it with the log',
  [ErrorCode.LinkUnsupported]: "pick a profile the lab can emulate (a rate alone: --link 0,200), or the two-cloud lab",
  [ErrorCode.LinkShapingFailed]: "'ferry bench --unshape' removes whatever shaping is left on the lab's hosts",
  [ErrorCode.PeerUnavailable]: 'install it with scripts/setup.sh, or leave the peer out with --no-podman',
};

/** The hint for a code, or undefined; safe for any string (no prototype lookups). */
export function errorHint(code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(ERROR_HINTS, code) ? ERROR_HINTS[code as ErrorCode] : undefined;
}
