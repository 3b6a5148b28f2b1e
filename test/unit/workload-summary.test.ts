import { describe, expect, it } from 'vitest';
import { workloadSummary } from '../../src/app/lab.ts';

describe('workloadSummary', () => {
  it("reads the Summary task's message out of ansible-playbook's default output", () => {
    const out = [
      'TASK [Summary] *****************************************************************',
      'ok: [lab-1] => {',
      '    "msg": "web container web1 kept on lab-1: pid 4242, cgroup /ferry/web1, 10.0.0.1:8080, counter 7, instance \\"a1\\". It was already running: left alone (its variables are not re-applied; pass -e replace=true to recreate it)"',
      '}',
      '',
      'PLAY RECAP *********************************************************************',
    ].join('\n');
    expect(workloadSummary(out)).toBe('web container web1 kept on lab-1: pid 4242, cgroup /ferry/web1, 10.0.0.1:8080, counter 7, instance "a1". It was already running: left alone (its variables are not re-applied; pass -e replace=true to recreate it)');
  });

  it('is null when the playbook printed no summary', () => {
    expect(workloadSummary('PLAY RECAP\nlab-1 : ok=3 changed=0')).toBeNull();
  });
});
