import { LogLevel } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { boltLogger } from '../../../../src/chat/slack/bolt-logger.ts';

function captured(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('boltLogger', () => {
  it('writes Bolt\'s lines through pino, tagged part bolt, at the matching level', () => {
    const { log, lines } = captured('debug');
    const b = boltLogger(log);
    b.debug('d');
    b.info('i', 'and', 2);
    b.warn('w');
    b.error('e');
    expect(lines.map((l) => [l.level, l.part, l.msg])).toEqual([
      [20, 'bolt', 'd'],
      [30, 'bolt', 'i and 2'],
      [40, 'bolt', 'w'],
      [50, 'bolt', 'e'],
    ]);
  });

  it('serializes an Error through pino\'s err serializer and keeps the text beside it', () => {
    const { log, lines } = captured();
    boltLogger(log).error('Slack API error: channel_not_found', new Error('boom'));
    expect(lines[0]).toMatchObject({ level: 50, msg: 'Slack API error: channel_not_found', err: { type: 'Error', message: 'boom' } });
    boltLogger(log).error(new TypeError('alone'));
    expect(lines[1]).toMatchObject({ msg: 'alone', err: { type: 'TypeError' } });
  });

  it('turns objects into JSON, and survives a circular one', () => {
    const { log, lines } = captured();
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    const b = boltLogger(log);
    b.warn('body', { type: 'x' });
    b.warn(loop);
    expect(lines.map((l) => l.msg)).toEqual(['body {"type":"x"}', '[object Object]']);
  });

  it('starts at Ferry\'s level, and Bolt\'s setLevel changes only its own', () => {
    const { log, lines } = captured('warn');
    const b = boltLogger(log);
    expect(b.getLevel()).toBe(LogLevel.WARN);
    b.info('hidden');
    b.setLevel(LogLevel.DEBUG);
    expect(b.getLevel()).toBe(LogLevel.DEBUG);
    b.debug('shown');
    log.info('ferry info stays hidden');
    expect(log.level).toBe('warn');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('maps pino levels Bolt does not have', () => {
    expect(boltLogger(pino({ level: 'trace' })).getLevel()).toBe(LogLevel.DEBUG);
    expect(boltLogger(pino({ level: 'fatal' })).getLevel()).toBe(LogLevel.ERROR);
    expect(boltLogger(pino({ level: 'silent' })).getLevel()).toBe(LogLevel.ERROR);
  });

  it('names its lines after setName, keeping its level', () => {
    const { log, lines } = captured('info');
    const b = boltLogger(log);
    b.setLevel(LogLevel.ERROR);
    b.setName('web-api:WebClient');
    b.warn('hidden');
    b.error('x');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ part: 'bolt', name: 'web-api:WebClient', msg: 'x' });
  });
});
