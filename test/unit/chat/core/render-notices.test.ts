import { describe, expect, it } from 'vitest';
import type { SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { esc } from '../../../../src/chat/core/mrkdwn.ts';
import { parseCommand, USAGE } from '../../../../src/chat/core/parse.ts';
import { alreadyMigrating, denied, requestFailed, usage } from '../../../../src/chat/core/render.ts';
import { ErrorCode } from '../../../../src/errors.ts';
import { expectValidMessage } from '../block-kit.ts';
import { catchFerry } from '../../catch-ferry.ts';

const texts = (m: { blocks: unknown[] }) => m.blocks.map((b) => (b as SectionBlock).text.text);

describe('usage', () => {
  it('shows help as the usage in a code block', () => {
    const m = usage();
    expectValidMessage(m);
    expect(texts(m)).toEqual([`\`\`\`\n${esc(USAGE)}\n\`\`\``]);
    expect(m.text).toBe(esc(USAGE));
  });

  it('shows a parse error’s problem first and the usage once', () => {
    const e = catchFerry(() => parseCommand('web1 from aws-1 to gcp-1 please'), ErrorCode.UsageError);
    const m = usage(e.message);
    expectValidMessage(m);
    expect(texts(m)[0]).toBe(":warning: unexpected word 'please' after 'gcp-1'");
    expect(texts(m)[1]).toBe(`\`\`\`\n${esc(USAGE)}\n\`\`\``);
    expect(JSON.stringify(m).split('Usage:')).toHaveLength(2);
    expect(m.text).toBe("unexpected word 'please' after 'gcp-1' (see /migrate help)");
  });

  it('escapes the problem text', () => {
    expect(texts(usage('bad <@U0ADMIN01>'))[0]).toBe(':warning: bad &lt;@U0ADMIN01&gt;');
  });
});

describe('denied', () => {
  it('says why', () => {
    const m = denied("you may not request migrations in environment 'aws'");
    expectValidMessage(m);
    expect(texts(m)).toEqual([":no_entry: Not allowed: you may not request migrations in environment 'aws'"]);
    expect(m.text).toBe("Not allowed: you may not request migrations in environment 'aws'");
  });
});

describe('alreadyMigrating', () => {
  it('links to the migration under way', () => {
    const m = alreadyMigrating('web1', 'm-1', 'https://acme.slack.com/archives/C1/p123');
    expectValidMessage(m);
    expect(texts(m)[0]).toBe(
      ':warning: *web1* is already being migrated (migration `m-1`). <https://acme.slack.com/archives/C1/p123|Follow it here>, or run `/migrate status m-1`; to stop it before the freeze: `/migrate cancel m-1`.',
    );
    expect(m.text).toBe('web1 is already being migrated (migration m-1)');
  });

  it('points to /migrate status without a link', () => {
    expect(texts(alreadyMigrating('web1', 'm-1'))[0]).toContain('Follow it with `/migrate status m-1`');
  });

  it('drops a link that is not a plain https URL', () => {
    const t = texts(alreadyMigrating('web1', 'm-1', 'javascript:alert(1)|x'))[0]!;
    expect(t).not.toContain('javascript');
    expect(t).toContain('Follow it here, or run');
  });
});

describe('requestFailed', () => {
  it('says what failed, that it is logged, and what to do, with the code', () => {
    const m = requestFailed('An API error occurred: channel_not_found', 'slack_webapi_platform_error');
    expectValidMessage(m);
    expect(m.text).toBe('Ferry could not handle that request: An API error occurred: channel_not_found');
    expect((m.blocks[0] as SectionBlock).text.text).toBe(':warning: Ferry could not handle that request: An API error occurred: channel_not_found\nIt is logged. Try again; if it fails again, tell whoever runs Ferry.');
    expect(JSON.stringify(m.blocks[1])).toContain('code `slack_webapi_platform_error`');
  });

  it('escapes and clips the reason, and copes with none', () => {
    const m = requestFailed(`<!channel> ${'x'.repeat(1000)}`);
    expect(m.text).toMatch(/^Ferry could not handle that request: &lt;!channel&gt; x+…$/);
    expect(m.text.length).toBeLessThan(400);
    expect(m.blocks).toHaveLength(1);
    expect(requestFailed('  ').text).toBe('Ferry could not handle that request: unknown error');
  });
});
