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
  RootfsBuildFailed = 'ferry_rootfs_build_failed',
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
