import { expect } from 'vitest';
import { LIMITS, type ChatMessage } from '../../../src/chat/core/blocks.ts';

/** Asserts the message is valid Block Kit within Slack's limits, and returns all its mrkdwn text joined. */
export function expectValidMessage(msg: ChatMessage): string {
  expect(msg.text.trim()).not.toBe('');
  expect(msg.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  expect(msg.blocks.length).toBeGreaterThan(0);
  expect(msg.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  const texts: string[] = [];
  for (const b of msg.blocks) {
    switch (b.type) {
      case 'section':
        expect(b.text.type).toBe('mrkdwn');
        expect(b.text.text.length).toBeGreaterThan(0);
        expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
        expect(b.text.text.split('```').length % 2, `unbalanced code fence in ${b.text.text}`).toBe(1);
        texts.push(b.text.text);
        break;
      case 'context':
        expect(b.elements.length).toBeGreaterThan(0);
        expect(b.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
        for (const e of b.elements) texts.push(e.text);
        break;
      case 'actions':
        expect(b.elements.length).toBeGreaterThan(0);
        for (const e of b.elements) {
          expect(e.type).toBe('button');
          expect(e.text.type).toBe('plain_text');
          expect(e.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
          expect(e.action_id).toMatch(/^[a-z_]{1,255}$/);
          if (e.confirm) {
            expect(e.confirm.title.text.length).toBeLessThanOrEqual(LIMITS.confirmTitle);
            expect(e.confirm.text.text.length).toBeLessThanOrEqual(LIMITS.confirmText);
            expect(e.confirm.confirm.text.length).toBeLessThanOrEqual(LIMITS.confirmButton);
            expect(e.confirm.deny.text.length).toBeLessThanOrEqual(LIMITS.confirmButton);
          }
        }
        break;
      case 'header':
        expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
        texts.push(b.text.text);
        break;
      case 'divider':
        break;
    }
  }
  return texts.join('\n');
}
