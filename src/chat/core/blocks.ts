/**
 * The few Block Kit shapes Ferry sends, as Slack's own types (@slack/types, the package Bolt's Web API
 * client types its arguments with) narrowed to what Ferry's builders guarantee: a section always has
 * mrkdwn text, a context only mrkdwn elements, a button an action id, a value and, when it has one, a
 * full confirmation dialog. Each is a subtype of Slack's, so messages go to `chat.postMessage`,
 * `chat.update` and `respond()` without a cast.
 * @see https://api.slack.com/reference/block-kit/blocks
 */
import type * as Slack from '@slack/types';
import { stripUnsafe } from '../../util/printable.ts';
import { safeMrkdwn } from './mrkdwn.ts';

/** Slack's documented limits that Ferry's messages could reach. */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Ferry's own cap on the `text` fallback (Slack allows 40,000; notifications show far less). */
  fallbackText: 3000,
} as const;

export type PlainText = Slack.PlainTextElement;
/**
 * Ferry always sends `verbatim: true`: Slack then leaves plain text alone (no automatic links, channel
 * names or mentions made from typed words) and still renders Ferry's explicit `<@U…>`, links and dates.
 */
export type Mrkdwn = Slack.MrkdwnElement;
export interface SectionBlock extends Omit<Slack.SectionBlock, 'text'> {
  text: Mrkdwn;
}
export type HeaderBlock = Slack.HeaderBlock;
export type DividerBlock = Slack.DividerBlock;
export interface ContextBlock extends Omit<Slack.ContextBlock, 'elements'> {
  elements: Mrkdwn[];
}
export interface ConfirmDialog extends Omit<Slack.ConfirmationDialog, 'title' | 'text' | 'confirm' | 'deny'> {
  title: PlainText;
  text: Mrkdwn;
  confirm: PlainText;
  deny: PlainText;
}
export interface ButtonElement extends Omit<Slack.Button, 'action_id' | 'value' | 'confirm'> {
  action_id: string;
  value: string;
  confirm?: ConfirmDialog;
}
export interface ActionsBlock extends Omit<Slack.ActionsBlock, 'elements'> {
  elements: ButtonElement[];
}
export type Block = SectionBlock | HeaderBlock | DividerBlock | ContextBlock | ActionsBlock;

/** A message for chat.postMessage / chat.update / respond: `text` is the notification and accessibility fallback. */
export interface ChatMessage {
  text: string;
  blocks: Block[];
}

/** Cuts `s` to `max` characters, marking the cut with `…`; never splits a surrogate pair. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = /[\uD800-\uDBFF]/.test(s[max - 2] ?? '') ? max - 2 : max - 1;
  return `${s.slice(0, end)}…`;
}

/** Plain text: Slack parses no markup or mentions in it, so only unsafe characters are removed. */
export function plain(text: string, max: number = LIMITS.sectionText): PlainText {
  return { type: 'plain_text', text: clip(stripUnsafe(text), max), emoji: true };
}

export function mrkdwn(text: string, max: number = LIMITS.sectionText): Mrkdwn {
  return { type: 'mrkdwn', text: clip(safeMrkdwn(text), max), verbatim: true };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function context(...texts: string[]): ContextBlock {
  return { type: 'context', elements: texts.filter((t) => t !== '').slice(0, LIMITS.contextElements).map((t) => mrkdwn(t, 2000)) };
}

export function button(opts: { text: string; actionId: string; value: string; style?: 'primary' | 'danger'; confirm?: ConfirmDialog }): ButtonElement {
  return {
    type: 'button',
    text: plain(opts.text, LIMITS.buttonText),
    action_id: opts.actionId,
    value: clip(opts.value, LIMITS.buttonValue),
    ...(opts.style ? { style: opts.style } : {}),
    ...(opts.confirm ? { confirm: opts.confirm } : {}),
  };
}

export function confirmDialog(opts: { title: string; text: string; confirm: string; deny: string; style?: 'primary' | 'danger' }): ConfirmDialog {
  return {
    title: plain(opts.title, LIMITS.confirmTitle),
    text: mrkdwn(opts.text, LIMITS.confirmText),
    confirm: plain(opts.confirm, LIMITS.confirmButton),
    deny: plain(opts.deny, LIMITS.confirmButton),
    ...(opts.style ? { style: opts.style } : {}),
  };
}

/**
 * Assembles a message within Slack's limits: empty context blocks dropped, at most 50 blocks
 * (the last one saying how many were left out), and a non-empty fallback.
 */
export function message(text: string, blocks: Block[]): ChatMessage {
  let kept = blocks.filter((b) => b.type !== 'context' || b.elements.length > 0);
  if (kept.length > LIMITS.blocks) {
    const left = kept.length - (LIMITS.blocks - 1);
    kept = [...kept.slice(0, LIMITS.blocks - 1), context(`… ${left} more blocks left out`)];
  }
  const fallback = safeMrkdwn(text);
  return { text: clip(fallback.trim() === '' ? 'Ferry' : fallback, LIMITS.fallbackText), blocks: kept };
}
