import { describe, expect, it } from 'vitest';
import { parseRecap } from '../../../src/infra/ansible.ts';

const output = `
PLAY [Provision ferry hosts] ***************************************************

TASK [Gathering Facts] *********************************************************
ok: [lab-1]
ok: [lab-2]
fatal: [lab-3]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.247.0.13 port 22: No route to host", "unreachable": true}

TASK [Install CRIU] ************************************************************
changed: [lab-1]
ok: [lab-2]

PLAY RECAP *********************************************************************
lab-1                      : ok=12   changed=3    unreachable=0    failed=0    skipped=2    rescued=1    ignored=1   
lab-2                      : ok=10   changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   
lab-3                      : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   

`;

describe('parseRecap', () => {
  it('reads ok, changed, unreachable and failed per host, ignoring the other columns', () => {
    expect(parseRecap(output)).toEqual({
      'lab-1': { ok: 12, changed: 3, unreachable: 0, failed: 0 },
      'lab-2': { ok: 10, changed: 0, unreachable: 0, failed: 1 },
      'lab-3': { ok: 0, changed: 0, unreachable: 1, failed: 0 },
    });
  });

  it('does not take task lines before the recap for hosts', () => {
    const recap = parseRecap(output);
    expect(Object.keys(recap)).toEqual(['lab-1', 'lab-2', 'lab-3']);
  });

  it('uses the last recap when the output has several plays', () => {
    const two = `PLAY RECAP ***\nlab-1 : ok=1 changed=1 unreachable=0 failed=0\n\nPLAY RECAP ***\nlab-1 : ok=7 changed=0 unreachable=0 failed=0\n`;
    expect(parseRecap(two)).toEqual({ 'lab-1': { ok: 7, changed: 0, unreachable: 0, failed: 0 } });
  });

  it('defaults missing counters to 0', () => {
    expect(parseRecap('PLAY RECAP ***\nlab-2 : ok=4\n')).toEqual({ 'lab-2': { ok: 4, changed: 0, unreachable: 0, failed: 0 } });
  });

  it('returns an empty recap for output without one', () => {
    expect(parseRecap('ERROR! the playbook: site.yml could not be found\n')).toEqual({});
    expect(parseRecap('')).toEqual({});
  });
});
