/** The chat command core: parse `/migrate`, decide with the policy, render replies. Pure, except readPolicyFile. */
export { MIGRATION_ID_PATTERN, parseCommand, USAGE, type ChatCommand, type MigrateCommand } from './parse.ts';
export {
  auditEvent,
  canApprove,
  canRequest,
  canView,
  environmentOf,
  loadPolicy,
  migrationEnvironments,
  PRINCIPAL_PATTERN,
  viewableEnvironments,
  viewNothing,
  type AuditAction,
  type AuditEvent,
  type AuditInput,
  type AuditOutcome,
  type ChatUser,
  type Decision,
  type DenyCode,
  type EnvironmentRules,
  type HostRef,
  type PendingRequest,
  type Policy,
  type PolicyFile,
} from './policy.ts';
export { readPolicyFile } from './policy-file.ts';
export { applyEvent, applyMemberEvent, groupReportStatus, queuedStatus, reportStatus, type FinishedPhase, type MigrationStatus, type StatusView } from './status.ts';
export * from './render.ts';
export { changedLines, consoleAction, mrkdwnToPlain, toConsoleText } from './console-render.ts';
