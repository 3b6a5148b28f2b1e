import { METHODS } from '../../migrate/methods.ts';

/** What `/migrate help` shows, and what every usage error ends with. Plain text: renderers put it in a code block. */
export const USAGE = [
  'Usage:',
  '  /migrate <container> from <host> to <host> [method <method>] [dry-run]',
  '                                    move a running container; a second person approves',
  '  /migrate <container> from <host> to group:<group> [method <method>] [dry-run]',
  '                                    the same, to the member of an inventory group best',
  '                                    able to take it (picked when it runs; the thread says why)',
  '  /migrate group <group> from <host> to <host> [method <method>]',
  '                                    move every running container of a group as one',
  '                                    (one freeze window, restored in order); no dry run',
  '  /migrate status [<migration-id>] [public]',
  '                                    show one migration (default: the latest)',
  '  /migrate list [public]            list queued and running migrations',
  '  /migrate cancel <migration-id>    cancel a migration before its container is frozen',
  '  /migrate hosts [public]           list the hosts Ferry can migrate between',
  '  /migrate help                     show this text',
  'status, list and hosts answer only you, unless you add public.',
  `Methods: auto (default), ${METHODS.join(', ')}`,
  'Example: /migrate web1 from aws-1 to gcp-1 method pc-ps-rsync',
].join('\n');
