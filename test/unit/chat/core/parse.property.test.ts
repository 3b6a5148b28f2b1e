import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandText } from '../../../../src/chat/core/command-text.ts';
import { MAX_COMMAND_LENGTH, MIGRATION_ID_PATTERN, parseCommand, type ChatCommand } from '../../../../src/chat/core/parse.ts';
import { ErrorCode, FerryError } from '../../../../src/errors.ts';
import { METHODS } from '../../../../src/migrate/methods.ts';
import { hasUnsafe } from '../../../../src/util/printable.ts';
import { anyText, hostileName, spliced, trickyText, validName } from '../../hostile-text.ts';
import { catchFerry } from '../../catch-ferry.ts';

/** parseCommand's outcome: the command, or the usage error's problem; anything else thrown fails the test. */
function attempt(text: string): { ok: true; cmd: ChatCommand } | { ok: false; problem: string } {
  try {
    return { ok: true, cmd: parseCommand(text) };
  } catch (e) {
    expect(e, `parseCommand(${JSON.stringify(text)}) threw something else`).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.UsageError);
    return { ok: false, problem: String((e as FerryError).details?.problem) };
  }
}

/** The strict name pattern, written out here so a loosened NAME_PATTERN in src/ fails this test. */
const STRICT_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** A target group, `group:` and an Ansible group name, written out for the same reason (GROUP_NAME_PATTERN). */
const STRICT_GROUP_TARGET = /^group:[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

function expectStrict(cmd: ChatCommand): void {
  switch (cmd.kind) {
    case 'migrate':
      // Exactly one of container and group, and a group never a dry run.
      expect([cmd.container, cmd.group].filter((n) => n !== undefined)).toHaveLength(1);
      if (cmd.group !== undefined) expect(cmd.dryRun).toBe(false);
      for (const n of [cmd.container ?? cmd.group, cmd.from]) expect(n).toMatch(STRICT_NAME);
      // The target is a host, or (for a container only) a target group.
      if (cmd.group === undefined && cmd.to.startsWith('group:')) expect(cmd.to).toMatch(STRICT_GROUP_TARGET);
      else expect(cmd.to).toMatch(STRICT_NAME);
      expect(cmd.from).not.toBe(cmd.to);
      expect(['auto', ...METHODS]).toContain(cmd.method);
      break;
    case 'status':
      if (cmd.id !== undefined) expect(cmd.id).toMatch(MIGRATION_ID_PATTERN);
      break;
    case 'cancel':
      expect(cmd.id).toMatch(MIGRATION_ID_PATTERN);
      break;
    default:
      expect(['list', 'hosts', 'help']).toContain(cmd.kind);
  }
}

/** Grammar words: a container or host named like one cannot be written in a command. */
const KEYWORDS = ['from', 'to', 'method', '--method', 'dry-run', 'dryrun', '--dry-run'];
const name = validName.filter((n) => !KEYWORDS.includes(n));
/** Real ids start with `m-`; an id that is the word `from` reads as `status from …`, a migrate command, and `status public` asks for the latest, publicly. */
const id = fc.stringMatching(MIGRATION_ID_PATTERN).filter((s) => s !== 'from' && s !== 'public');

/** A target group as a user types it: `group:` (in any case) and an Ansible group name. */
const groupTarget = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/).map((g) => `group:${g}`);

const command: fc.Arbitrary<ChatCommand> = fc.oneof(
  fc
    .record({ container: name, from: name, to: fc.oneof(name, groupTarget), method: fc.constantFrom('auto' as const, ...METHODS), dryRun: fc.boolean() })
    .filter((c) => c.from !== c.to)
    .map((c) => ({ kind: 'migrate' as const, ...c })),
  fc
    .record({ group: name, from: name, to: name, method: fc.constantFrom('auto' as const, ...METHODS) })
    .filter((c) => c.from !== c.to)
    .map((c) => ({ kind: 'migrate' as const, ...c, dryRun: false })),
  fc
    .tuple(fc.option(id, { nil: undefined }), fc.boolean())
    .map(([i, pub]): ChatCommand => ({ kind: 'status', ...(i === undefined ? {} : { id: i }), ...(pub ? { public: true as const } : {}) })),
  id.map((i): ChatCommand => ({ kind: 'cancel', id: i })),
  fc.constantFrom<ChatCommand>({ kind: 'list' }, { kind: 'hosts' }, { kind: 'list', public: true }, { kind: 'hosts', public: true }, { kind: 'help' }),
);

/** Slack sends typed &, < and > as entities. */
const slackEscaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const anyInput = fc.oneof(anyText(200), trickyText(METHODS), command.map(commandText), spliced(command.map(commandText)));

describe('parseCommand: properties', () => {
  it('returns a command or throws ferry_usage, for any text at all', () => {
    fc.assert(
      fc.property(anyInput, (text) => {
        attempt(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts only commands whose names and ids match the strict patterns', () => {
    fc.assert(
      fc.property(anyInput, (text) => {
        const r = attempt(text);
        if (r.ok) expectStrict(r.cmd);
      }),
      { numRuns: 3000 },
    );
  });

  it('never echoes an unsafe character in a usage problem', () => {
    fc.assert(
      fc.property(anyInput, (text) => {
        const r = attempt(text);
        if (!r.ok) expect(hasUnsafe(r.problem), r.problem).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back every command it renders: parse(commandText(c)) = c', () => {
    fc.assert(
      fc.property(command, (c) => {
        expect(parseCommand(commandText(c))).toEqual(c);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the canonical text of whatever it accepted as the same command', () => {
    fc.assert(
      fc.property(anyInput, (text) => {
        const r = attempt(text);
        if (r.ok) expect(parseCommand(commandText(r.cmd))).toEqual(r.cmd);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a hostile name in any position of a migrate command', () => {
    // Slack sends typed &, < and > as entities; tokenize strips quotes around words and zero-width
    // characters (clients insert both), so those are normalised, not refused: the names left must be strict.
    fc.assert(
      fc.property(
        hostileName().filter((h) => h.family !== 'invisible character'),
        fc.integer({ min: 0, max: 2 }),
        ({ name: bad }, at) => {
          const names = ['web1', 'lab-1', 'lab-2'];
          names[at] = slackEscaped(bad);
          const r = attempt(`${names[0]} from ${names[1]} to ${names[2]}`);
          if (r.ok) {
            expectStrict(r.cmd);
            const got = r.cmd.kind === 'migrate' ? [r.cmd.container, r.cmd.from, r.cmd.to][at] : undefined;
            expect(got, `accepted ${JSON.stringify(bad)} as ${JSON.stringify(got)}`).not.toBe(bad);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses a hostile group name, and never takes a hostile word for the group', () => {
    fc.assert(
      fc.property(hostileName().filter((h) => h.family !== 'invisible character'), ({ name: bad }) => {
        const r = attempt(`group ${slackEscaped(bad)} from lab-1 to lab-2`);
        if (r.ok) {
          expectStrict(r.cmd);
          const got = r.cmd.kind === 'migrate' ? (r.cmd.group ?? r.cmd.container) : undefined;
          expect(got, `accepted ${JSON.stringify(bad)} as ${JSON.stringify(got)}`).not.toBe(bad);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Ansible group names may hold capitals and run to 64 characters: those two families are names there.
  const hostileForGroups = (h: { family: string }) => !['invisible character', 'uppercase', 'too long'].includes(h.family);

  it('refuses a hostile target group name, and never takes a hostile word for the group', () => {
    fc.assert(
      fc.property(hostileName().filter(hostileForGroups), ({ name: bad }) => {
        const r = attempt(`web1 from lab-1 to group:${slackEscaped(bad)}`);
        if (r.ok) {
          expectStrict(r.cmd);
          const got = r.cmd.kind === 'migrate' ? r.cmd.to : undefined;
          expect(got, `accepted group:${JSON.stringify(bad)} as ${JSON.stringify(got)}`).not.toBe(`group:${bad}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses hostile names whose hostile part tokenize cannot normalise away', () => {
    fc.assert(
      fc.property(
        hostileName().filter((h) => ['control character', 'bidi control', 'lookalike letter', 'path traversal', 'leading dash', 'path prefix', 'uppercase', 'too long'].includes(h.family)),
        ({ family, name: bad }) => {
          fc.pre(!/^[\s\u0085]|[\s\u0085]$/.test(bad)); // a space at either end is just a separator
          catchFerry(() => parseCommand(`${bad} from lab-1 to lab-2`), ErrorCode.UsageError);
          catchFerry(() => parseCommand(`group ${bad} from lab-1 to lab-2`), ErrorCode.UsageError);
          catchFerry(() => parseCommand(`web1 from ${bad} to lab-2`), ErrorCode.UsageError);
          catchFerry(() => parseCommand(`web1 from lab-1 to ${bad}`), ErrorCode.UsageError);
          if (hostileForGroups({ family })) catchFerry(() => parseCommand(`web1 from lab-1 to group:${bad}`), ErrorCode.UsageError);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('parseCommand: long and adversarial input', () => {
  it(`refuses text longer than ${MAX_COMMAND_LENGTH} characters before reading it`, () => {
    const at = 'web1 from lab-1 to lab-2 '.padEnd(MAX_COMMAND_LENGTH, ' ');
    expect(parseCommand(at)).toMatchObject({ kind: 'migrate' });
    const e = catchFerry(() => parseCommand(`${at}x`), ErrorCode.UsageError);
    expect(e.details?.problem).toBe(`command too long (${MAX_COMMAND_LENGTH + 1} characters): a /migrate command is at most ${MAX_COMMAND_LENGTH}`);
  });

  it.each([
    ['10 MB of one letter', 'a'.repeat(10_000_000)],
    ['10 MB of unclosed Slack markup', '<'.repeat(10_000_000)],
    ['10 MB of quotes', `${"'".repeat(10_000_000)}x`],
  ])('refuses %s with the length, not by scanning it', (_what, text) => {
    const e = catchFerry(() => parseCommand(text), ErrorCode.UsageError);
    expect(e.details?.problem).toMatch(/^command too long \(\d+ characters\)/);
  });

  // Inputs at the limit built to make a backtracking regular expression or the edit distance work
  // hardest: each must come back (a command or a usage error), which is what this test checks.
  const N = MAX_COMMAND_LENGTH;
  it.each([
    ['one long word (edit distance against every command)', 'a'.repeat(N)],
    ['unclosed angle brackets', '<'.repeat(N)],
    ['angle brackets with bars', `<${'a|'.repeat((N - 1) / 2)}`],
    ['quote runs that never reach the end', `${"'".repeat(N - 1)}x`],
    ['backtick runs that never reach the end', `${'`'.repeat(N - 1)}x`],
    ['smart quotes and a word', `${'“'.repeat(N / 2 - 1)}x${'”'.repeat(N / 2)}`],
    ['entities', '&lt;'.repeat(N / 4)],
    ['dashes', '—'.repeat(N)],
    ['a thousand one-letter words', 'a '.repeat(N / 2)],
    ['keywords forever', 'from to '.repeat(N / 8)],
    ['method= forever', 'web1 from a to b '.padEnd(N - 1, 'method=x ')],
    ['zero-width and spaces', '\u200b \u00a0'.repeat(N / 3)],
  ])('returns on %s', (_what, text) => {
    expect(text.length).toBeLessThanOrEqual(N);
    attempt(text);
  });
});
