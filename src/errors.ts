/**
 * One coded error for everything a user can see. Callers switch on `code`, never on message text;
 * the code survives the queue (a failed BullMQ job keeps it, see {@link encodeError}) and chat and
 * CLI render from it. Messages say what went wrong and what to do.
 */
export enum ErrorCode {
  ConfigInvalid = 'ferry_config_invalid',
  InvalidName = 'ferry_invalid_name',
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
  /** A program Ferry runs on the controller (terraform, ansible-playbook, ssh-keygen, …) is not on PATH. */
  ToolMissing = 'ferry_tool_missing',
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
  AlreadyMigrating = 'ferry_already_migrating',
  /** The migration id was started once already: it is never run twice. */
  AlreadyStarted = 'ferry_already_started',
  ProvisionFailed = 'ferry_provision_failed',
  /** `runc checkpoint` (CRIU dump or pre-dump) failed; details.criuLog holds CRIU's error lines. */
  CriuDumpFailed = 'ferry_criu_dump_failed',
  /** `runc restore` failed; details.criuLog holds CRIU's error lines. */
  CriuRestoreFailed = 'ferry_criu_restore_failed',
  /** CRIU's page server or lazy-pages daemon could not start or ended badly. */
  CriuPageServerFailed = 'ferry_criu_page_server_failed',
  RedisUnavailable = 'ferry_redis_unavailable',
  /** The chat platform could not say which user groups someone belongs to (Slack's `usergroups.list` failed). */
  GroupsUnavailable = 'ferry_groups_unavailable',
  /** A broken invariant inside Ferry (a bug): the message says which. */
  Internal = 'ferry_internal',
  ChartFontMissing = 'ferry_chart_font_missing',
  ChartInvalid = 'ferry_chart_invalid',
  ChartRenderFailed = 'ferry_chart_render_failed',
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
  [ErrorCode.RedisUnavailable]: 'check REDIS_URL and that Redis is up',
  [ErrorCode.GroupsUnavailable]: "check the Slack app's usergroups:read scope and Slack's status, then try again",
  [ErrorCode.Internal]: 'this is a bug in Ferry: please report it with the log',
};

/** The hint for a code, or undefined; safe for any string (no prototype lookups). */
export function errorHint(code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(ERROR_HINTS, code) ? ERROR_HINTS[code as ErrorCode] : undefined;
}
