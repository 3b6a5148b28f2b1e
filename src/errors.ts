/**
 * Every failure a user can see has a stable `code`; callers switch on it, never on message text.
 * Messages say what went wrong and what to do.
 */
export enum ErrorCode {
  ConfigInvalid = 'ferry_config_invalid',
  InvalidName = 'ferry_invalid_name',
  UsageError = 'ferry_usage',
  UnknownHost = 'ferry_unknown_host',
  LabNotUp = 'ferry_lab_not_up',
  CommandFailed = 'ferry_command_failed',
  CommandTimedOut = 'ferry_command_timed_out',
  SshConnectFailed = 'ferry_ssh_connect_failed',
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
  /** An image archive or layout that skopeo/umoci cannot read, or one that needs a reference to pick an image. */
  ImageInvalid = 'ferry_image_invalid',
  /** A bundle or rootfs given to deploy that is not usable (no config.json, root outside the bundle, no command). */
  BundleInvalid = 'ferry_bundle_invalid',
  /** A program Ferry needs on the controller (skopeo, umoci, rsync) is not installed. */
  ToolMissing = 'ferry_tool_missing',
  /** Copying or starting a container on its host failed. */
  DeployFailed = 'ferry_deploy_failed',
  /** The container asks for a terminal: CRIU cannot dump a console that lives outside the container. */
  RefusedTerminal = 'ferry_refused_terminal',
  /** A bind mount of a host path: the target host has other contents there (or none). */
  RefusedBindMount = 'ferry_refused_bind_mount',
  /** A device node or open device file beyond the default set (/dev/null, zero, full, random, urandom, tty, pts). */
  RefusedDevice = 'ferry_refused_device',
  /** A user namespace, or a namespace joined by path: external to the container, CRIU cannot recreate it elsewhere. */
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
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly original?: unknown;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { original?: unknown; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'FerryError';
    this.code = code;
    this.original = opts.original;
    this.details = opts.details;
  }
}

export function isFerryError(e: unknown, code?: ErrorCode): e is FerryError {
  return e instanceof FerryError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
