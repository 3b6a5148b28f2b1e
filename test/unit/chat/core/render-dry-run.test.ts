import { describe, expect, it } from 'vitest';
import type { SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { dryRunReport, provisionReply } from '../../../../src/chat/core/render.ts';
import { expectValidMessage } from '../block-kit.ts';

const text = (m: ReturnType<typeof dryRunReport>) => (m.blocks[0] as SectionBlock).text.text;

describe('dryRunReport', () => {
  it('says what would happen, why, each host\'s provision check and the methods ruled out', () => {
    const m = dryRunReport('web1', {
      plan: 'move web1 from lab-1 to lab-2 with page-server; terraform plan (local): no changes',
      reason: 'no soft-dirty tracking on lab-1',
      provisionCheck: { 'lab-1': { changed: 1, failed: 0 }, 'lab-2': { changed: 0, failed: 2 } },
      blockers: ['precopy: lab-1 has no soft-dirty tracking', 'pc-ps: the same'],
      hooks: ['pre_migrate: playbooks/drain.yml'],
    });
    expectValidMessage(m);
    expect(text(m).split('\n')).toEqual([
      '*Dry run* for *web1*: would move web1 from lab-1 to lab-2 with page-server; terraform plan (local): no changes.',
      'Why: no soft-dirty tracking on lab-1',
      'Provision check on lab-1: 1 change, 0 failures',
      'Provision check on lab-2: 0 changes, 2 failures',
      'Methods these hosts cannot run: precopy: lab-1 has no soft-dirty tracking; pc-ps: the same',
      'Hooks that would run: pre_migrate: playbooks/drain.yml',
    ]);
  });

  it('escapes whatever the worker reported: no mention or markup gets through', () => {
    const m = dryRunReport('web1', { plan: 'ping <!channel>', reason: '<@U0ADMIN01> said so & more', provisionCheck: { '<!here>': { changed: 0, failed: 0 } }, blockers: ['<https://evil.example|click>'] });
    const t = text(m);
    expect(t).not.toMatch(/<[!@#h]/);
    expect(t).toContain('&lt;!channel&gt;');
    expect(t).toContain('&lt;@U0ADMIN01&gt; said so &amp; more');
    expect(m.text).not.toMatch(/<[!@#h]/);
  });
});

describe('provisionReply', () => {
  it('names both hosts and escapes the playbook\'s summary', () => {
    expect(provisionReply('lab-1', 'lab-2', '1 change')).toBe('Provisioned *lab-1* and *lab-2*: 1 change');
    expect(provisionReply('lab-1', 'lab-2')).toBe('Provisioned *lab-1* and *lab-2*: done');
    expect(provisionReply('lab-1', 'lab-2', '<!channel>')).toBe('Provisioned *lab-1* and *lab-2*: &lt;!channel&gt;');
  });
});
