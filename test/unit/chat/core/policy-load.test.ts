import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../../src/chat/core/policy.ts';
import { ErrorCode } from '../../../../src/errors.ts';
import { catchFerry } from '../../catch-ferry.ts';

const env = { requesters: ['U0ALICE01'], approvers: ['U0BOB0001'] };
const ok = { environments: { aws: env, gcp: env } };
const ID_RULE = 'is not a Slack user ID (U…/W…), user-group ID (S…) or group:<name>';
const LIST_RULE = 'Slack user IDs (U…/W…), user-group IDs (S…) or group:<name>';

describe('loadPolicy', () => {
  it('applies defaults', () => {
    const p = loadPolicy(ok);
    expect(p.approvalTtlMinutes).toBe(15);
    expect(p.hostEnvironments).toEqual({});
    const withViewers = { ...env, viewers: ['U0ALICE01', 'U0BOB0001'] };
    expect(p.environments).toEqual({ aws: withViewers, gcp: withViewers });
  });

  it('makes requesters and approvers viewers by default, each once', () => {
    const p = loadPolicy({ environments: { aws: { requesters: ['U0ALICE01', 'group:sre'], approvers: ['group:sre', 'U0BOB0001'] } } });
    expect(p.environments.aws!.viewers).toEqual(['U0ALICE01', 'group:sre', 'U0BOB0001']);
  });

  it('keeps viewers as given, wider or narrower than the default', () => {
    expect(loadPolicy({ environments: { aws: { ...env, viewers: ['S0EVERYONE'] } } }).environments.aws!.viewers).toEqual(['S0EVERYONE']);
    expect(loadPolicy({ environments: { aws: { ...env, viewers: [] } } }).environments.aws!.viewers).toEqual([]);
  });

  it('keeps every kind of principal', () => {
    const principals = ['U012AB3CD', 'W012AB3CD', 'S012AB3CD', 'group:sre-oncall', 'group:a.b_c'];
    expect(loadPolicy({ environments: { aws: { requesters: principals, approvers: [] } } }).environments.aws!.requesters).toEqual(principals);
  });

  it('keeps host overrides and the TTL', () => {
    const p = loadPolicy({ ...ok, hostEnvironments: { 'edge-1': 'gcp' }, approvalTtlMinutes: 2.5 });
    expect(p.hostEnvironments).toEqual({ 'edge-1': 'gcp' });
    expect(p.approvalTtlMinutes).toBe(2.5);
  });

  it('returns a frozen policy, detached from its input', () => {
    const input = structuredClone(ok);
    const p = loadPolicy(input);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.environments.aws!.requesters)).toBe(true);
    input.environments.aws.requesters.push('U0MALLORY');
    expect(p.environments.aws!.requesters).toEqual(['U0ALICE01']);
  });

  it.each<[string, unknown, string]>([
    ['null', null, "(top level) must be a JSON object with 'environments'"],
    ['a list', [], "(top level) must be a JSON object with 'environments'"],
    ['a string', 'aws', "(top level) must be a JSON object with 'environments'"],
    ['no environments', {}, 'environments is missing: map each environment name to { "requesters": [...], "approvers": [...] }'],
    ['environments as a list', { environments: [] }, 'environments must be an object mapping environment names to { "requesters": [...], "approvers": [...] }'],
    ['no environment at all', { environments: {} }, 'environments is empty: nobody could migrate anything'],
    ['an unknown top-level field', { ...ok, approvers: [] }, 'approvers is not a known field (expected environments, hostEnvironments, approvalTtlMinutes)'],
    ['an uppercase environment name', { environments: { AWS: env } }, "environments.AWS has an invalid environment name 'AWS': use lowercase letters, digits and '-', starting with a letter"],
    ['an environment name with an escape sequence', { environments: { 'a\x1b[2J': env } }, "environments.a\\u{001B}[2J has an invalid environment name 'a\\u{001B}[2J': use lowercase letters, digits and '-', starting with a letter"],
    ['an environment that is not an object', { environments: { aws: ['U0ALICE01'] } }, 'environments.aws must be an object { "requesters": [...], "approvers": [...] }'],
    ['an unknown environment field', { environments: { aws: { ...env, admins: [] } } }, 'environments.aws.admins is not a known field (expected requesters, approvers, viewers)'],
    ['missing approvers', { environments: { aws: { requesters: [] } } }, `environments.aws.approvers is missing: list ${LIST_RULE} (an empty list [] allows nobody)`],
    ['missing requesters', { environments: { gcp: { approvers: [] } } }, `environments.gcp.requesters is missing: list ${LIST_RULE} (an empty list [] allows nobody)`],
    ['requesters as a string', { environments: { aws: { requesters: 'U0ALICE01', approvers: [] } } }, `environments.aws.requesters must be a list of ${LIST_RULE}, got 'U0ALICE01'`],
    ['a user name instead of an ID', { environments: { aws: { requesters: ['alice'], approvers: [] } } }, `environments.aws.requesters[0] 'alice' ${ID_RULE} (use the member ID from the user's Slack profile, such as U012AB3CD, not a name)`],
    ['an @handle', { environments: { aws: { requesters: [], approvers: ['U0BOB0001', '@bob'] } } }, `environments.aws.approvers[1] '@bob' ${ID_RULE} (use the member ID from the user's Slack profile, such as U012AB3CD, not a name)`],
    ['a number', { environments: { aws: { requesters: ['U0ALICE01', 42], approvers: [] } } }, `environments.aws.requesters[1] 42 ${ID_RULE}`],
    ['a lowercase ID', { environments: { aws: { requesters: [], approvers: ['u012ab3cd'] } } }, `environments.aws.approvers[0] 'u012ab3cd' ${ID_RULE} (use the member ID from the user's Slack profile, such as U012AB3CD, not a name)`],
    ['an uppercase group name', { environments: { aws: { requesters: ['group:SRE'], approvers: [] } } }, `environments.aws.requesters[0] 'group:SRE' ${ID_RULE}`],
    ['a channel ID', { environments: { aws: { requesters: ['C012AB3CD'], approvers: [] } } }, `environments.aws.requesters[0] 'C012AB3CD' ${ID_RULE}`],
    ['viewers as a string', { environments: { aws: { ...env, viewers: 'U0ALICE01' } } }, `environments.aws.viewers must be a list of ${LIST_RULE}, got 'U0ALICE01'`],
    ['a user name among viewers', { environments: { aws: { ...env, viewers: ['carol'] } } }, `environments.aws.viewers[0] 'carol' ${ID_RULE} (use the member ID from the user's Slack profile, such as U012AB3CD, not a name)`],
    ['hostEnvironments as a list', { ...ok, hostEnvironments: [] }, 'hostEnvironments must be an object mapping host names to environment names'],
    ['a host in an unknown environment', { ...ok, hostEnvironments: { 'aws-1': 'azure' } }, "hostEnvironments.aws-1 names environment 'azure', which is not in environments (aws, gcp)"],
    ['an invalid host name', { ...ok, hostEnvironments: { AWS_1: 'aws' } }, "hostEnvironments.AWS_1 has an invalid host name 'AWS_1': use lowercase letters, digits and '-', starting with a letter"],
    ['a host environment that is not a string', { ...ok, hostEnvironments: { 'aws-1': 3 } }, 'hostEnvironments.aws-1 must be an environment name (a string), got 3'],
    ['a zero TTL', { ...ok, approvalTtlMinutes: 0 }, 'approvalTtlMinutes must be a number of minutes above 0 and at most 1440, got 0'],
    ['a negative TTL', { ...ok, approvalTtlMinutes: -5 }, 'approvalTtlMinutes must be a number of minutes above 0 and at most 1440, got -5'],
    ['a TTL as text', { ...ok, approvalTtlMinutes: '15' }, "approvalTtlMinutes must be a number of minutes above 0 and at most 1440, got '15'"],
    ['a TTL over a day', { ...ok, approvalTtlMinutes: 1441 }, 'approvalTtlMinutes must be a number of minutes above 0 and at most 1440, got 1441'],
    ['a null TTL', { ...ok, approvalTtlMinutes: null }, 'approvalTtlMinutes must be a number of minutes above 0 and at most 1440, got null'],
  ])('rejects %s, naming the field', (_what, json, problem) => {
    const e = catchFerry(() => loadPolicy(json), ErrorCode.PolicyInvalid);
    expect(e.message).toBe(`policy: ${problem}`);
  });

  it('names the source it was given', () => {
    const e = catchFerry(() => loadPolicy({}, '/etc/ferry/policy.json'), ErrorCode.PolicyInvalid);
    expect(e.message).toMatch(/^\/etc\/ferry\/policy\.json: environments is missing/);
  });
});
