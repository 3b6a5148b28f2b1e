import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSlackApp, requestOrigin } from '../../../../src/chat/slack/SlackApp.ts';
import { ErrorCode } from '../../../../src/errors.ts';
import { catchFerry } from '../../catch-ferry.ts';

describe('requestOrigin', () => {
  it.each<[string, unknown, ReturnType<typeof requestOrigin>]>([
    ['a slash command', { user_id: 'U1', channel_id: 'C1', response_url: 'https://hooks.slack.com/x' }, { user: 'U1', channel: 'C1', responseUrl: 'https://hooks.slack.com/x' }],
    ['a block action', { user: { id: 'U2' }, channel: { id: 'C2' }, response_url: 'https://hooks.slack.com/y' }, { user: 'U2', channel: 'C2', responseUrl: 'https://hooks.slack.com/y' }],
    ['an event', { event: { user: 'U3', channel: 'C3' } }, { user: 'U3', channel: 'C3', responseUrl: undefined }],
    ['nothing usable', { user: 'not an object', channel_id: 7, response_url: '' }, { user: undefined, channel: undefined, responseUrl: undefined }],
    ['no body', undefined, { user: undefined, channel: undefined, responseUrl: undefined }],
  ])('reads %s', (_what, body, expected) => {
    expect(requestOrigin(body)).toEqual(expected);
  });
});

describe('createSlackApp', () => {
  it('refuses to start without a signing secret or an app token, with ferry_config_invalid', () => {
    const e = catchFerry(() => createSlackApp({ botToken: 'xoxb-test' }, pino({ level: 'silent' })), ErrorCode.ConfigInvalid);
    expect(e.message).toContain('SLACK_SIGNING_SECRET');
  });
});
