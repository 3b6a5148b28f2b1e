/**
 * Block Kit message builders for every reply Ferry sends. Pure: each returns `{ text, blocks }` for
 * Bolt's `say`/`respond`/`chat.update`; console-render.ts turns the same messages into terminal text.
 */
export { LIMITS, type Block, type ChatMessage } from './blocks.ts';
export { ACTION_IDS, approvalClosed, approvalRequest, type ApprovalOutcome, type ApprovalView } from './render-approval.ts';
export { hookReply, phaseReply, provisionReply, statusMessage } from './render-status.ts';
export { dryRunReport, type DryRunView } from './render-dry-run.ts';
export { failure, groupSummary, summary, timesTable, type FailureWhere } from './render-summary.ts';
export { alreadyMigrating, denied, note, requestFailed, slowDown, usage } from './render-notices.ts';
export { hostsTable, listTable, type HostRow, type JobRow } from './render-tables.ts';
