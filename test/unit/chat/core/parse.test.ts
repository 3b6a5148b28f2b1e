import { describe, expect, it } from 'vitest';
import { MIGRATION_ID_PATTERN, parseCommand, USAGE, type ChatCommand, type MigrateCommand } from '../../../../src/chat/core/parse.ts';
import { ErrorCode, FerryError } from '../../../../src/errors.ts';
import { METHODS } from '../../../../src/migrate/methods.ts';
import { catchFerry } from '../../catch-ferry.ts';

type Route = { from?: string; to?: string; method?: MigrateCommand['method']; dryRun?: boolean };
const move = (over: Route & { container?: string } = {}): ChatCommand => ({
  kind: 'migrate',
  container: 'web1',
  from: 'aws-1',
  to: 'gcp-1',
  method: 'auto',
  dryRun: false,
  ...over,
});
/** A group's move: `group blog from aws-1 to gcp-1`. */
const moveGroup = (over: Route & { group?: string } = {}): ChatCommand => ({
  kind: 'migrate',
  group: 'blog',
  from: 'aws-1',
  to: 'gcp-1',
  method: 'auto',
  dryRun: false,
  ...over,
});

const CHOICES = 'auto, normal, page-server, precopy, pc-ps, pc-ps-rsync, lazy, pc-lazy';
const NAME_RULE = "use 1-31 characters, lowercase letters, digits and '-', starting with a letter";

describe('parseCommand: migrate', () => {
  it.each<[string, string, ChatCommand]>([
    ['the plain form', 'web1 from aws-1 to gcp-1', move()],
    ['a method', 'web1 from aws-1 to gcp-1 method pc-ps-rsync', move({ method: 'pc-ps-rsync' })],
    ['dry-run', 'web1 from aws-1 to gcp-1 dry-run', move({ dryRun: true })],
    ['dry-run before the method', 'web1 from aws-1 to gcp-1 dry-run method lazy', move({ method: 'lazy', dryRun: true })],
    ['uppercase keywords and method', 'web1 FROM aws-1 To gcp-1 METHOD Page-Server DRY-RUN', move({ method: 'page-server', dryRun: true })],
    ['extra whitespace, tabs and newlines', '  web1   from\taws-1 \n to   gcp-1  ', move()],
    ['non-breaking and zero-width spaces', 'web1\u00a0from aws-1\u200b to gcp-1', move()],
    ['the whole text in backticks', '`web1 from aws-1 to gcp-1`', move()],
    ['the whole text in a code fence', '```web1 from aws-1 to gcp-1 method normal```', move({ method: 'normal' })],
    ['quoted and smart-quoted words', `"web1" from 'aws-1' to “gcp-1”`, move()],
    ['words in backticks', 'web1 from `aws-1` to `gcp-1` method `precopy`', move({ method: 'precopy' })],
    ['Slack links with labels', 'web1 from <http://aws-1|aws-1> to <https://gcp-1.example.com|gcp-1>', move()],
    ['a Slack link without label', 'web1 from aws-1 to <http://gcp-1>', move()],
    ['--dry-run', 'web1 from aws-1 to gcp-1 --dry-run', move({ dryRun: true })],
    ['an em dash autocorrected from --', 'web1 from aws-1 to gcp-1 —dry-run', move({ dryRun: true })],
    ['dryrun', 'web1 from aws-1 to gcp-1 dryrun', move({ dryRun: true })],
    ['method=', 'web1 from aws-1 to gcp-1 method=pc-ps', move({ method: 'pc-ps' })],
    ['--method', 'web1 from aws-1 to gcp-1 --method normal', move({ method: 'normal' })],
    ['a leading /migrate', '/migrate web1 from aws-1 to gcp-1', move()],
    ['explicit auto', 'web1 from aws-1 to gcp-1 method auto', move()],
    ['a container named like a command', 'status from aws-1 to gcp-1', move({ container: 'status' })],
    ['a container named help', 'help from aws-1 to gcp-1 dry-run', move({ container: 'help', dryRun: true })],
    ['a 31-character name', `${'x'.repeat(31)} from aws-1 to gcp-1`, move({ container: 'x'.repeat(31) })],
  ])('accepts %s', (_what, text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each(METHODS)('accepts method %s', (m) => {
    expect(parseCommand(`web1 from lab-1 to lab-2 method ${m}`)).toEqual(move({ from: 'lab-1', to: 'lab-2', method: m }));
  });
});

describe('parseCommand: migrate a group', () => {
  it.each<[string, string, ChatCommand]>([
    ['the plain form', 'group blog from aws-1 to gcp-1', moveGroup()],
    ['a method', 'group blog from aws-1 to gcp-1 method page-server', moveGroup({ method: 'page-server' })],
    ['uppercase keywords', 'GROUP blog FROM aws-1 TO gcp-1 Method=PC-PS', moveGroup({ method: 'pc-ps' })],
    ['--group, as the CLI spells it', '--group blog from aws-1 to gcp-1 --method normal', moveGroup({ method: 'normal' })],
    ['a group named like a command', 'group status from aws-1 to gcp-1', moveGroup({ group: 'status' })],
    ['a group named group', 'group group from aws-1 to gcp-1', moveGroup({ group: 'group' })],
    ['a 31-character name', `group ${'g'.repeat(31)} from aws-1 to gcp-1`, moveGroup({ group: 'g'.repeat(31) })],
    ['a Slack link as the name', 'group <http://blog|blog> from aws-1 to gcp-1', moveGroup()],
    // A container named "group" is still a container: 'from' comes right after its name.
    ['a container named group', 'group from aws-1 to gcp-1', move({ container: 'group' })],
    ['a container named group, dry run', 'group from aws-1 to gcp-1 dry-run', move({ container: 'group', dryRun: true })],
  ])('accepts %s', (_what, text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('says group and leaves container out (and the other way round)', () => {
    expect(parseCommand('group blog from aws-1 to gcp-1')).not.toHaveProperty('container');
    expect(parseCommand('web1 from aws-1 to gcp-1')).not.toHaveProperty('group');
  });

  it.each<[string, string]>([
    ['group', "expected a group name after 'group': /migrate group <group> from <host> to <host>"],
    ['--group from aws-1 to gcp-1', "expected a group name after '--group', got 'from'"],
    ['group to aws-1', "expected a group name after 'group', got 'to'"],
    ['group method normal', "expected a group name after 'group', got 'method'"],
    ['group blog', "expected 'from <host>' after 'group blog'"],
    ['group blog to gcp-1', "expected 'from <host>' after 'group blog', got 'to'"],
    ['group blog web from aws-1 to gcp-1', "expected 'from <host>' after 'group blog', got 'web'"],
    ['group blog from aws-1', "expected 'to <host>' after 'from aws-1'"],
    ['group blog from aws-1 to aws-1', "same source and target host 'aws-1': choose a different host after 'to'"],
    ['group blog from aws-1 to gcp-1 method teleport', `unknown method 'teleport': choose one of ${CHOICES}`],
    ['group blog from aws-1 to gcp-1 now', "unexpected word 'now' after 'gcp-1'"],
    ['group blog from aws-1 to gcp-1 dry-run', 'a group has no dry run: a dry run checks one container, so ask for one per member (/migrate <member> from aws-1 to gcp-1 dry-run)'],
    ['group blog from aws-1 to gcp-1 method normal --dry-run', 'a group has no dry run: a dry run checks one container, so ask for one per member (/migrate <member> from aws-1 to gcp-1 dry-run)'],
    ['group Blog from aws-1 to gcp-1', `invalid group name 'Blog': ${NAME_RULE} (names are lowercase: did you mean 'blog'?)`],
    ['group blog_1 from aws-1 to gcp-1', `invalid group name 'blog_1': ${NAME_RULE}`],
    ['group -blog from aws-1 to gcp-1', `invalid group name '-blog': ${NAME_RULE}`],
    ['group ../blog from aws-1 to gcp-1', `invalid group name '../blog': ${NAME_RULE}`],
    [`group ${'g'.repeat(32)} from aws-1 to gcp-1`, `invalid group name '${'g'.repeat(32)}': ${NAME_RULE}`],
    ['group bl\u0435g from aws-1 to gcp-1', `invalid group name 'bl\u0435g' (character U+0435 at position 3 is not allowed): ${NAME_RULE}`],
    ['group blog from AWS-1 to gcp-1', `invalid host name 'AWS-1': ${NAME_RULE} (names are lowercase: did you mean 'aws-1'?)`],
    ['grop blog from aws-1 to gcp-1', "unknown word 'grop': did you mean 'group'? (/migrate group <group> from <host> to <host>)"],
    ['groups blog from aws-1 to gcp-1', "unknown word 'groups': did you mean 'group'? (/migrate group <group> from <host> to <host>)"],
  ])('%j: %s', (text, problem) => {
    const e = catchFerry(() => parseCommand(text), ErrorCode.UsageError);
    expect(e.details?.problem).toBe(problem);
    expect(e.message).toBe(`${problem}\n\n${USAGE}`);
  });
});

describe('parseCommand: migrate to a target group', () => {
  it.each<[string, string, ChatCommand]>([
    ['the plain form', 'web1 from lab-1 to group:cloud-b', move({ from: 'lab-1', to: 'group:cloud-b' })],
    ['a method', 'web1 from lab-1 to group:cloud-b method page-server', move({ from: 'lab-1', to: 'group:cloud-b', method: 'page-server' })],
    ['a dry run', 'web1 from lab-1 to group:cloud-b dry-run', move({ from: 'lab-1', to: 'group:cloud-b', dryRun: true })],
    ['the prefix in capitals, as keywords may be', 'web1 FROM lab-1 TO Group:cloud-b', move({ from: 'lab-1', to: 'group:cloud-b' })],
    ["an Ansible group name (case kept, '_' allowed)", 'web1 from lab-1 to group:Env_Prod', move({ from: 'lab-1', to: 'group:Env_Prod' })],
    ['a 64-character group name', `web1 from lab-1 to group:${'g'.repeat(64)}`, move({ from: 'lab-1', to: `group:${'g'.repeat(64)}` })],
    ['in backticks', 'web1 from lab-1 to `group:cloud-b`', move({ from: 'lab-1', to: 'group:cloud-b' })],
    // `group NAME` first is still a container group, moved to a host.
    ['beside a container group of the same name', 'group blog from lab-1 to lab-2', moveGroup({ from: 'lab-1', to: 'lab-2' })],
  ])('accepts %s', (_what, text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  const GROUP_RULE = "an Ansible group name (letters, digits, '_' and '-', starting with a letter or '_', up to 64 characters)";
  it.each<[string, string]>([
    ['web1 from lab-1 to group:', `invalid group '': ${GROUP_RULE}`],
    ['web1 from lab-1 to group:cloud;rm', `invalid group 'cloud;rm': ${GROUP_RULE}`],
    ['web1 from lab-1 to group:../etc', `invalid group '../etc': ${GROUP_RULE}`],
    ['web1 from lab-1 to group:-x', `invalid group '-x': ${GROUP_RULE}`],
    [`web1 from lab-1 to group:${'g'.repeat(65)}`, `invalid group '${'g'.repeat(40)}…': ${GROUP_RULE}`],
    ['web1 from lab-1 to group:cl\u043eud', `invalid group 'cl\u043eud' (character U+043E at position 3 is not allowed): ${GROUP_RULE}`],
    ['web1 from group:cloud-a to lab-2', "the source is a host, not a group: a container runs on one host ('group:' names a target, after 'to')"],
    ['group blog from lab-1 to group:cloud-b', "a group of containers moves to one host: name it after 'to' (a target group such as 'group:cloud-b' picks a host for one container)"],
    ['web1 from lab-1 to group:cloud-b now', "unexpected word 'now' after 'group:cloud-b'"],
  ])('%j: %s', (text, problem) => {
    const e = catchFerry(() => parseCommand(text), ErrorCode.UsageError);
    expect(e.details?.problem).toBe(problem);
  });
});

describe('parseCommand: other commands', () => {
  it.each<[string, ChatCommand]>([
    ['status', { kind: 'status' }],
    ['STATUS', { kind: 'status' }],
    ['status m-20250101120000-a1b2c3', { kind: 'status', id: 'm-20250101120000-a1b2c3' }],
    ['Status   m-1  ', { kind: 'status', id: 'm-1' }],
    ['list', { kind: 'list' }],
    ['List', { kind: 'list' }],
    ['cancel m-20250101120000-a1b2c3', { kind: 'cancel', id: 'm-20250101120000-a1b2c3' }],
    ['CANCEL `m-1`', { kind: 'cancel', id: 'm-1' }],
    ['hosts', { kind: 'hosts' }],
    ['hosts public', { kind: 'hosts', public: true }],
    ['list PUBLIC', { kind: 'list', public: true }],
    ['status public', { kind: 'status', public: true }],
    ['status m-1 public', { kind: 'status', id: 'm-1', public: true }],
    ['help', { kind: 'help' }],
    ['Help', { kind: 'help' }],
    ['?', { kind: 'help' }],
    ['--help', { kind: 'help' }],
    ['', { kind: 'help' }],
    ['   \n\t ', { kind: 'help' }],
    ['``', { kind: 'help' }],
  ])('parses %j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('leaves the id out of a bare status', () => {
    expect(parseCommand('status')).not.toHaveProperty('id');
  });

  it('leaves public out unless it was asked for', () => {
    for (const t of ['status', 'status m-1', 'list', 'hosts']) expect(parseCommand(t)).not.toHaveProperty('public');
  });
});

describe('parseCommand: malformed input', () => {
  it.each<[string, string]>([
    ['web1', "expected 'from <host>' after 'web1'"],
    ['web1 to gcp-1', "expected 'from <host>' after 'web1', got 'to'"],
    ['web1 form aws-1 to gcp-1', "expected 'from <host>' after 'web1', got 'form'"],
    ['web1 from', "expected a source host after 'from'"],
    ['web1 from to gcp-1', "expected a source host after 'from', got 'to'"],
    ['web1 from aws-1', "expected 'to <host>' after 'from aws-1'"],
    ['web1 from lab-1 lab-2', "expected 'to <host>' after 'from lab-1', got 'lab-2'"],
    ['web1 from aws-1 to', "expected a target host after 'to'"],
    ['web1 from aws-1 to method normal', "expected a target host after 'to', got 'method'"],
    ['web1 from aws-1 to aws-1', "same source and target host 'aws-1': choose a different host after 'to'"],
    ['web1 from aws-1 to gcp-1 method teleport', `unknown method 'teleport': choose one of ${CHOICES}`],
    ['web1 from aws-1 to gcp-1 method=teleport', `unknown method 'teleport': choose one of ${CHOICES}`],
    ['web1 from aws-1 to gcp-1 method', `expected a method after 'method': choose one of ${CHOICES}`],
    ['web1 from aws-1 to gcp-1 method dry-run', `expected a method after 'method': choose one of ${CHOICES}`],
    ['web1 from aws-1 to gcp-1 method normal method lazy', "'method' given twice"],
    ['web1 from aws-1 to gcp-1 dry-run --dry-run', "'dry-run' given twice"],
    ['web1 from aws-1 to gcp-1 please', "unexpected word 'please' after 'gcp-1'"],
    ['web1 from aws-1 to gcp-1 method normal now', "unexpected word 'now' after 'normal'"],
    ['Web1 from aws-1 to gcp-1', `invalid container name 'Web1': ${NAME_RULE} (names are lowercase: did you mean 'web1'?)`],
    ['web_1 from aws-1 to gcp-1', `invalid container name 'web_1': ${NAME_RULE}`],
    ['web1 from AWS-1 to gcp-1', `invalid host name 'AWS-1': ${NAME_RULE} (names are lowercase: did you mean 'aws-1'?)`],
    ['web1 from aws-1 to gcp;rm', `invalid host name 'gcp;rm': ${NAME_RULE}`],
    ['web1 from ../etc to gcp-1', `invalid host name '../etc': ${NAME_RULE}`],
    ['<@U012AB3CD> web1 from aws-1 to gcp-1', `invalid container name '@U012AB3CD': ${NAME_RULE}`],
    ['from aws-1 to gcp-1', "expected a container name before 'from'"],
    ['stauts', "unknown command 'stauts': did you mean 'status'?"],
    ['lsit', "unknown command 'lsit': did you mean 'list'?"],
    ['cancle m-1', "unknown command 'cancle': did you mean 'cancel'?"],
    ['cancel', "expected a migration id after 'cancel'"],
    ['cancel M-1', "invalid migration id 'M-1': use lowercase letters, digits and '-', up to 64 characters (like m-20250101120000-a1b2c3)"],
    ['cancel m-1 now', "unexpected word 'now' after 'cancel m-1'"],
    ['status -x', "invalid migration id '-x': use lowercase letters, digits and '-', up to 64 characters (like m-20250101120000-a1b2c3)"],
    ['status m-1 m-2', "unexpected word 'm-2' after 'status m-1'"],
    ['list all', "unexpected word 'all' after 'list': 'list' takes no arguments"],
    ['hosts aws', "unexpected word 'aws' after 'hosts': 'hosts' takes no arguments"],
    ['hosts aws public', "unexpected word 'aws' after 'hosts': 'hosts' takes no arguments"],
    ['list public public', "unexpected word 'public' after 'list': 'list' takes no arguments"],
    ['status m-1 m-2 public', "unexpected word 'm-2' after 'status m-1'"],
    ['help me', "unexpected word 'me' after 'help': 'help' takes no arguments"],
  ])('%j: %s', (text, problem) => {
    const e = catchFerry(() => parseCommand(text), ErrorCode.UsageError);
    expect(e.details?.problem).toBe(problem);
    expect(e.message).toBe(`${problem}\n\n${USAGE}`);
  });

  it('clips an overlong word in the message', () => {
    const id = 'a'.repeat(65);
    const e = catchFerry(() => parseCommand(`status ${id}`), ErrorCode.UsageError);
    expect(e.details?.problem).toBe(`invalid migration id '${'a'.repeat(40)}…': use lowercase letters, digits and '-', up to 64 characters (like m-20250101120000-a1b2c3)`);
  });

  it('keeps the FerryError it translated as original', () => {
    const e = catchFerry(() => parseCommand('web1 from aws-1 to gcp-1 method teleport'), ErrorCode.UsageError);
    expect(e.original).toBeInstanceOf(FerryError);
    expect((e.original as FerryError).code).toBe(ErrorCode.UnknownMethod);
  });

  it('does not suggest a command for a longer sentence', () => {
    const e = catchFerry(() => parseCommand('host to gcp-1'), ErrorCode.UsageError);
    expect(e.details?.problem).toBe("expected 'from <host>' after 'host', got 'to'");
  });
});

describe('MIGRATION_ID_PATTERN', () => {
  it.each(['m-20250101120000-a1b2c3', '0', 'a'.repeat(64)])('accepts %s', (id) => expect(MIGRATION_ID_PATTERN.test(id)).toBe(true));
  it.each(['', '-m', 'M-1', 'm_1', 'a'.repeat(65), 'm-1\n'])('rejects %j', (id) => expect(MIGRATION_ID_PATTERN.test(id)).toBe(false));
});

describe('USAGE', () => {
  it('shows every command and every method', () => {
    for (const word of ['from <host> to <host>', 'from <host> to group:<group>', '/migrate group <group> from <host> to <host>', '[method <method>]', '[dry-run]', 'status [<migration-id>] [public]', '/migrate list [public]', 'cancel <migration-id>', '/migrate hosts [public]', '/migrate help']) {
      expect(USAGE).toContain(word);
    }
    expect(USAGE).toContain(`Methods: ${CHOICES.replace('auto', 'auto (default)')}`);
  });
});
