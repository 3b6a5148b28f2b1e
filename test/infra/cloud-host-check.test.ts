/**
 * playbooks/cloud-host.yml (the ferry_host role, then provision.yml) in --check mode against this
 * machine, which scripts/setup.sh has already provisioned, over a local connection.
 *
 * What it proves: the role and the playbook load, every module gets valid arguments, every
 * condition evaluates on a real Debian host with CRIU >= 4.2 already present, and check mode runs
 * to the end without a failure (and changes nothing: it is --check).
 * What it does not prove: an install on a fresh host (no package is installed here), the CRIU
 * build from Debian's source (skipped under --check; it was run once by hand into a temporary
 * directory), the distribution-package path, Ubuntu, idempotence of a real run, or WireGuard coming
 * up: those need a fresh cloud host.
 */
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../src/infra/ansible.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';

// `criu check` (provision.yml) needs root and CRIU >= 4.2, as the lab does.
const why = labUnavailable();
skipNote(why, 'cloud-host.yml --check on this machine');

describe.skipIf(why !== null)('playbooks/cloud-host.yml --check on this machine', () => {
  it('runs the ferry_host role and provision.yml to the end with no failure', async () => {
    const r = await runPlaybook('cloud-host.yml', 'localhost,', { check: true, extraVars: { ansible_connection: 'local' } });
    expect(r.recap.localhost, r.output.slice(-3000)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(r.output).toContain("ferry_host : Install Ferry's packages");
    expect(r.output).toContain('TASK [Check that criu check looks good]');
  });
});
