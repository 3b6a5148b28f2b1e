import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { toConsoleText } from '../../../../src/chat/core/console-render.ts';
import { hookReply, note, summary } from '../../../../src/chat/core/render.ts';
import { hasUnsafe } from '../../../../src/util/printable.ts';
import { anyText, MENTIONS, trickyText } from '../../hostile-text.ts';
import { expectValidMessage } from '../block-kit.ts';
import { report } from '../fixtures.ts';

const body = (text: string) => /```\n([\s\S]*?)\n```/.exec(text)?.[1];

describe('hookReply', () => {
  it("names the hook and shows its lines as they came, in a code block", () => {
    const text = hookReply('pre_migrate', ['TASK [Drain web1] ****', 'fatal: [lb-1]: FAILED! => {"msg": "3 sessions"}']);
    expect(text).toBe(':scroll: `pre_migrate` hook\n```\nTASK [Drain web1] ****\nfatal: [lb-1]: FAILED! =&gt; {"msg": "3 sessions"}\n```');
    expectValidMessage(note(text));
  });

  it('keeps a huge batch within one section, saying how many lines were left out, with its fences', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(100)}`);
    const text = hookReply('post_migrate', lines);
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text.endsWith('\n```')).toBe(true);
    const shown = body(text)!.split('\n');
    expect(shown[0]).toBe(lines[0]);
    expect(shown.at(-1)).toMatch(/^… \d+ more$/);
    const msg = note(text);
    expectValidMessage(msg);
    expect((msg.blocks[0] as SectionBlock).text.text).toBe(text);
  });

  it('clips one endless line rather than dropping it', () => {
    const shown = body(hookReply('on_rollback', [`ok: [x] => ${'y'.repeat(10_000)}`]))!;
    expect(shown.startsWith('ok: [x] =&gt; yyy')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
  });

  it("never passes on a playbook's output as controls, live markup or a closing fence", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText(80), trickyText(), fc.constantFrom(...MENTIONS, '```', '``` <!channel>')), { maxLength: 30 }), (lines) => {
        const msg = note(hookReply('pre_migrate', lines));
        for (const t of [msg.text, (msg.blocks[0] as SectionBlock).text.text]) {
          expect(hasUnsafe(t, { allowNewlines: true })).toBe(false);
          expect(t).not.toMatch(/<[!@#]/);
          expect(t).not.toMatch(/@(channel|here|everyone)\b/i);
          expect(t.match(/```/g)).toHaveLength(2);
        }
        expect(hasUnsafe(toConsoleText(msg), { allowNewlines: true })).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('summary with warnings', () => {
  it('shows each warning under the head, escaped', () => {
    const msg = summary(report({ warnings: ['the post_migrate hook /h/dns.yml failed (exit 2): fatal: <!channel>; the move stands'] }));
    const head = (msg.blocks[0] as SectionBlock).text.text;
    expect(head.split('\n').at(-1)).toBe(':warning: the post_migrate hook /h/dns.yml failed (exit 2): fatal: &lt;!channel&gt;; the move stands');
    expectValidMessage(msg);
  });
});
