import { ErrorCode, FerryError, isFerryError } from '../../errors.ts';
import { METHODS, parseMethod, type MethodRequest } from '../../migrate/methods.ts';
import type { MigrationSubject } from '../../migrate/request.ts';
import { GROUP_TARGET_PREFIX, parseGroupTarget, validateName } from '../../util/names.ts';
import { quote } from '../../util/printable.ts';
import { closest } from '../../util/suggest.ts';
import { tokenize } from './slack-text.ts';
import { USAGE } from './usage.ts';

export { USAGE } from './usage.ts';

/** Migration ids as the engine accepts them (`m-20250101120000-a1b2c3` from `newMigrationId`). */
export const MIGRATION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The longest command text read, in UTF-16 code units. A valid command is a few hundred characters
 * at most, even with Slack's link markup (`<https://…|name>`) around every name; the bound keeps every
 * regular expression and the "did you mean" edit distance on a short input, whatever is pasted.
 */
export const MAX_COMMAND_LENGTH = 1000;

/**
 * A parsed migration: a container (`web1 from …`) or a group (`group blog from …`: every member of it
 * running on the source, moved as one; the worker finds the members). A group has no dry run.
 * `to` is a host, or for a container `group:NAME`, a group of the inventory (a target group: the
 * worker picks the member best able to take it when the migration runs).
 */
export type MigrateCommand = { kind: 'migrate'; from: string; to: string; method: MethodRequest; dryRun: boolean } & MigrationSubject;

/** One parsed `/migrate` command. */
export type ChatCommand =
  | MigrateCommand
  | { kind: 'status'; id?: string; public?: true }
  | { kind: 'list'; public?: true }
  | { kind: 'cancel'; id: string }
  | { kind: 'hosts'; public?: true }
  | { kind: 'help' };

/** The read commands: answered privately unless they end with `public`. */
export type ReadCommand = Extract<ChatCommand, { kind: 'status' | 'list' | 'hosts' }>;

/** The word that makes a read command's answer visible to the channel. */
export const PUBLIC_WORD = 'public';

const COMMANDS = ['status', 'list', 'cancel', 'hosts', 'help'] as const;
const HELP_WORDS = new Set(['help', '?', '-h', '--help']);
const DRY_RUN_WORDS = new Set(['dry-run', 'dryrun', '--dry-run']);
const METHOD_WORDS = new Set(['method', '--method']);
/** `group <name>` in place of the container (`--group`, as the CLI spells it, too). */
const GROUP_WORDS = new Set(['group', '--group']);
/** Words that are grammar, never a host: `from to gcp-1` is a missing host, not a host named "to". */
const KEYWORDS = new Set(['from', 'to', ...METHOD_WORDS, ...DRY_RUN_WORDS]);

/**
 * Parses the text after `/migrate`. Keywords are case-insensitive; names are not (they reach commands).
 * Empty text means help.
 *
 * @throws FerryError `ferry_usage`: the message says exactly what was wrong, then shows {@link USAGE};
 *   `details.problem` holds the first part alone.
 */
export function parseCommand(text: string): ChatCommand {
  if (text.length > MAX_COMMAND_LENGTH) throw usage(`command too long (${text.length} characters): a /migrate command is at most ${MAX_COMMAND_LENGTH}`);
  const words = tokenize(text);
  if (words.length === 0) return { kind: 'help' };
  const first = words[0]!.toLowerCase();
  if (words[1]?.toLowerCase() === 'from' || GROUP_WORDS.has(first)) return parseMigrate(words);
  if (HELP_WORDS.has(first)) return noArguments(words, { kind: 'help' });
  switch (first) {
    case 'list':
      return publicly(noArguments(readWords(words), { kind: 'list' }), words);
    case 'hosts':
      return publicly(noArguments(readWords(words), { kind: 'hosts' }), words);
    case 'status': {
      const w = readWords(words);
      if (w.length > 2) throw unexpected(w[2]!, `status ${w[1]}`);
      return publicly(w.length === 2 ? { kind: 'status', id: migrationId(w[1]!) } : { kind: 'status' }, words);
    }
    case 'cancel': {
      if (words.length < 2) throw usage("expected a migration id after 'cancel'");
      if (words.length > 2) throw unexpected(words[2]!, `cancel ${words[1]}`);
      return { kind: 'cancel', id: migrationId(words[1]!) };
    }
  }
  const guess = words.length <= 2 && !KEYWORDS.has(words[1]?.toLowerCase() ?? '') ? closest(first, COMMANDS) : undefined;
  if (guess) throw usage(`unknown command ${quote(words[0]!)}: did you mean '${guess}'?`);
  // `grop blog from …` cannot be a container (a container's name comes right before 'from').
  if (words[2]?.toLowerCase() === 'from' && closest(first, ['group'])) throw usage(`unknown word ${quote(words[0]!)}: did you mean 'group'? (/migrate group <group> from <host> to <host>)`);
  return parseMigrate(words);
}

/**
 * `<container> from <host> to <host|group:NAME>` or `group <group> from <host> to <host>`, then
 * `method <m>` and `dry-run` (containers only) in either order.
 */
function parseMigrate(words: string[]): ChatCommand {
  const { subject, said, next } = subjectWords(words);
  const from = clause(words, next, 'from', 'a source host', said);
  const to = clause(words, next + 2, 'to', 'a target host', `from ${from}`);
  if (subject.group !== undefined && to.startsWith(GROUP_TARGET_PREFIX)) {
    throw usage(`a group of containers moves to one host: name it after 'to' (a target group such as ${quote(to)} picks a host for one container)`);
  }
  if (from === to) throw usage(`same source and target host '${from}': choose a different host after 'to'`);

  let method: MethodRequest | undefined;
  let dryRun = false;
  for (let i = next + 4; i < words.length; i++) {
    const word = words[i]!;
    const lower = word.toLowerCase();
    const inline = /^(--)?method=/.test(lower) ? word.slice(word.indexOf('=') + 1) : undefined;
    if (METHOD_WORDS.has(lower) || inline !== undefined) {
      if (method !== undefined) throw usage(`'method' given twice`);
      const value = inline ?? words[++i];
      if (!value || KEYWORDS.has(value.toLowerCase())) throw usage(`expected a method after 'method': choose one of ${methodChoices()}`);
      method = methodOf(value);
    } else if (DRY_RUN_WORDS.has(lower)) {
      if (subject.group !== undefined) throw usage(`a group has no dry run: a dry run checks one container, so ask for one per member (/migrate <member> from ${from} to ${to} dry-run)`);
      if (dryRun) throw usage(`'dry-run' given twice`);
      dryRun = true;
    } else {
      throw unexpected(word, words[i - 1]!);
    }
  }
  return { kind: 'migrate', ...subject, from, to, method: method ?? 'auto', dryRun };
}

/** What the command moves, the words it took (for messages) and where 'from' should be. */
function subjectWords(words: string[]): { subject: MigrationSubject; said: string; next: number } {
  const first = words[0]!;
  const lower = first.toLowerCase();
  // `group from a to b`: a container named "group" ('from' comes right after a container's name).
  if (GROUP_WORDS.has(lower) && (lower === '--group' || words[1]?.toLowerCase() !== 'from')) {
    const g = words[1];
    if (g === undefined) throw usage(`expected a group name after ${quote(first)}: /migrate group <group> from <host> to <host>`);
    if (KEYWORDS.has(g.toLowerCase())) throw usage(`expected a group name after ${quote(first)}, got ${quote(g)}`);
    const group = name('group', g);
    return { subject: { group }, said: `group ${group}`, next: 2 };
  }
  if (KEYWORDS.has(first.toLowerCase())) throw usage(`expected a container name before ${quote(first)}`);
  const container = name('container', first);
  return { subject: { container }, said: container, next: 1 };
}

/** Reads `<keyword> <host>` at words[i]; `after` names what came before, for the message. */
function clause(words: string[], i: number, keyword: 'from' | 'to', what: string, after: string): string {
  const got = words[i];
  if (got?.toLowerCase() !== keyword) {
    throw usage(`expected '${keyword} <host>' after '${after}'${got === undefined ? '' : `, got ${quote(got)}`}`);
  }
  const host = words[i + 1];
  if (host === undefined) throw usage(`expected ${what} after '${keyword}'`);
  if (KEYWORDS.has(host.toLowerCase())) throw usage(`expected ${what} after '${keyword}', got ${quote(host)}`);
  if (host.toLowerCase().startsWith(GROUP_TARGET_PREFIX)) {
    if (keyword === 'from') throw usage(`the source is a host, not a group: a container runs on one host ('group:' names a target, after 'to')`);
    return groupTarget(host);
  }
  return name('host', host);
}

/** `group:NAME` (the prefix in any case, as keywords are): a target group, its name as strict as Ansible's. */
function groupTarget(word: string): string {
  const target = GROUP_TARGET_PREFIX + word.slice(GROUP_TARGET_PREFIX.length);
  try {
    parseGroupTarget(target);
    return target;
  } catch (e) {
    if (!isFerryError(e)) throw e;
    throw usage(e.message, e);
  }
}

function name(kind: 'container' | 'group' | 'host', value: string): string {
  try {
    return validateName(kind, value);
  } catch (e) {
    if (!isFerryError(e)) throw e;
    const lower = value.toLowerCase();
    const hint = lower !== value && safeValid(kind, lower) ? ` (names are lowercase: did you mean '${lower}'?)` : '';
    throw usage(`${e.message}${hint}`, e);
  }
}

function safeValid(kind: 'container' | 'group' | 'host', value: string): boolean {
  try {
    validateName(kind, value);
    return true;
  } catch {
    return false;
  }
}

function methodOf(value: string): MethodRequest {
  try {
    return parseMethod(value.toLowerCase());
  } catch (e) {
    if (!isFerryError(e)) throw e;
    throw usage(`unknown method ${quote(value)}: choose one of ${methodChoices()}`, e);
  }
}

function methodChoices(): string {
  return ['auto', ...METHODS].join(', ');
}

function migrationId(value: string): string {
  if (!MIGRATION_ID_PATTERN.test(value)) {
    throw usage(`invalid migration id ${quote(value)}: use lowercase letters, digits and '-', up to 64 characters (like m-20250101120000-a1b2c3)`);
  }
  return value;
}

/** A read command's words without its trailing `public` (case-insensitive), which {@link publicly} reads. */
function readWords(words: string[]): string[] {
  return isPublic(words) ? words.slice(0, -1) : words;
}

function isPublic(words: string[]): boolean {
  return words.length > 1 && words.at(-1)!.toLowerCase() === PUBLIC_WORD;
}

/** Marks a read command public when its text ended with `public`; leaves the key out otherwise. */
function publicly<C extends ReadCommand>(command: C, words: string[]): C {
  return isPublic(words) ? { ...command, public: true } : command;
}

function noArguments<C extends ChatCommand>(words: string[], command: C): C {
  if (words.length > 1) throw unexpected(words[1]!, words[0]!, `${quote(words[0]!)} takes no arguments`);
  return command;
}

function unexpected(word: string, after: string, why?: string): FerryError {
  return usage(`unexpected word ${quote(word)} after ${quote(after)}${why ? `: ${why}` : ''}`);
}

function usage(problem: string, original?: unknown): FerryError {
  return new FerryError(ErrorCode.UsageError, `${problem}\n\n${USAGE}`, { original, details: { problem } });
}
