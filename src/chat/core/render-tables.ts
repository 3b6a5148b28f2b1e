import { groupsText } from '../../hosts/inventory.ts';
import type { Phase } from '../../migrate/clock.ts';
import { subjectText, type MigrationSubject } from '../../migrate/request.ts';
import { renderTable } from '../../util/table.ts';
import { message, section, type ChatMessage } from './blocks.ts';
import { PHASE_LABELS } from './labels.ts';
import { codeBlock, esc, fitLines } from './mrkdwn.ts';
import type { MigrationStatus } from './status.ts';

const TABLE_BODY_MAX = 2800;

/** One host for `/migrate hosts`. Optional columns show only when some row has them. */
export interface HostRow {
  name: string;
  environment: string;
  address?: string;
  /** The host's Ansible groups, parents included (`group_names`); unset for a hosts.json host. */
  groups?: readonly string[];
  /** Answered the last probe; null = not probed. */
  reachable?: boolean | null;
  /** CRIU version, null = not installed. */
  criu?: string | null;
  kernel?: string;
  /** Soft-dirty tracking, so pre-copy methods can run from it. */
  preCopy?: boolean;
  /** Ferry containers running there. */
  containers?: readonly string[];
}

/** One migration for `/migrate list` and `/migrate status`: of a container, or of a group. */
export type JobRow = JobRowFields & MigrationSubject;

export interface JobRowFields {
  id: string;
  from: string;
  to: string;
  status: MigrationStatus;
  method?: string;
  /** Phase under way, for running jobs. */
  phase?: Phase;
  createdAt?: Date | string | number;
}

export function hostsTable(rows: readonly HostRow[]): ChatMessage {
  if (rows.length === 0) return message('No hosts in the inventory', [section('No hosts in the inventory: bring a lab up with `ferry lab up`, or check FERRY_INVENTORY (or FERRY_HOSTS_FILE).')]);
  const cols: { title: string; cell: (h: HostRow) => string | undefined }[] = [
    { title: 'Host', cell: (h) => h.name },
    { title: 'Env', cell: (h) => h.environment },
    { title: 'Groups', cell: (h) => (h.groups === undefined ? undefined : groupsText(h.groups)) },
    { title: 'Address', cell: (h) => h.address },
    { title: 'Up', cell: (h) => (h.reachable === undefined ? undefined : h.reachable === null ? '?' : h.reachable ? 'yes' : 'NO') },
    { title: 'CRIU', cell: (h) => (h.criu === undefined ? undefined : (h.criu ?? 'none')) },
    { title: 'Kernel', cell: (h) => h.kernel },
    { title: 'Pre-copy', cell: (h) => (h.preCopy === undefined ? undefined : h.preCopy ? 'yes' : 'no') },
    { title: 'Containers', cell: (h) => (h.containers === undefined ? undefined : h.containers.join(', ') || '-') },
  ];
  const shown = cols.filter((c) => rows.some((r) => c.cell(r) !== undefined));
  const table = renderTable(
    shown.map((c) => c.title),
    rows.map((r) => shown.map((c) => c.cell(r) ?? '')),
  );
  const n = `${rows.length} host${rows.length === 1 ? '' : 's'}`;
  return message(`${n}: ${rows.map((r) => esc(r.name)).join(', ')}`, [section(`*Hosts* (${n})\n${codeBlock(fitLines(table.split('\n'), TABLE_BODY_MAX, 2))}`)]);
}

export function listTable(jobs: readonly JobRow[]): ChatMessage {
  if (jobs.length === 0) return message('No migrations queued or running', [section('No migrations queued or running.')]);
  const table = renderTable(
    ['ID', 'Container', 'From → To', 'Status', 'Method', 'Created (UTC)'],
    jobs.map((j) => [
      j.id,
      subjectText(j),
      `${j.from} → ${j.to}`,
      j.status === 'running' && j.phase ? `running: ${PHASE_LABELS[j.phase]}` : j.status,
      j.method ?? '-',
      created(j.createdAt),
    ]),
  );
  const n = `${jobs.length} migration${jobs.length === 1 ? '' : 's'}`;
  return message(`${n}: ${jobs.map((j) => `${subjectText(j, esc)} ${j.status}`).join(', ')}`, [section(`*Migrations* (${n})\n${codeBlock(fitLines(table.split('\n'), TABLE_BODY_MAX, 2))}`)]);
}

function created(at: Date | string | number | undefined): string {
  if (at === undefined) return '-';
  const d = new Date(at);
  return Number.isFinite(d.getTime()) ? d.toISOString().slice(5, 16).replace('T', ' ') : '-';
}
