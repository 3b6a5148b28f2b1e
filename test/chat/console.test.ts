import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { deploy, httpText, labDown, labUp, provision, runcState } from '../helpers/lab.ts';

const why = labUnavailable();
skipNote(why, 'scripted console chat (npm start without Slack tokens)');

/** Runs `ferry start` as `npm start` does, with a script on stdin and no Slack tokens or REDIS_URL. */
function runConsole(script: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'REDIS_URL', 'FERRY_POLICY_FILE']) delete env[k];
    const p = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ferry.js'), 'start'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ out, err, code }));
    p.stdin.end(script);
  });
}

describe.skipIf(why !== null)('console chat, scripted on stdin', () => {
  beforeAll(async () => {
    await labUp(2);
    await provision();
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 64, port: 8080 });
  });
  afterAll(async () => {
    await labDown();
  });

  // One `ferry start` session for everything (each start sets the lab up again, which takes a
  // while): bad input first, then the Slack flow, then a dry run back, in one script.
  it('explains bad input and keeps going, performs the Slack flow (self-approval refused, second person approves, container moved), and a dry run moves nothing', async () => {
    const instance = await httpText('lab-1', 8080, '/instance');
    const r = await runConsole(
      [
        '/migrate web1 form lab-2 to lab-1',
        '/migrate teleport',
        '/approve m-nope',
        'hello',
        '/migrate web1 from lab-1 to lab-2 method page-server',
        '/approve',
        '/as bob',
        '/approve',
        '/wait',
        '/migrate status',
        '/as alice',
        '/migrate web1 from lab-2 to lab-1 dry-run',
        '/as bob',
        '/approve',
        '/wait',
        '',
      ].join('\n'),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Usage/);
    expect(r.out).toMatch(/no longer open/);
    expect(r.out).toMatch(/unknown input 'hello'/);
    expect(r.out).toMatch(/asks to move web1 from lab-1 to lab-2/);
    expect(r.out).toMatch(/\[Approve: \/approve m-[a-z0-9-]+\]/);
    expect(r.out).toMatch(/yourself/);
    expect(r.out).toMatch(/web1 moved from lab-1 to lab-2/);
    for (const col of ['Checkpoint', 'Transfer', 'Restore', 'Downtime', 'Total']) expect(r.out).toContain(col);
    expect(r.out).toMatch(/Dry run/);
    expect(r.out).toMatch(/terraform plan \(local\): no changes/);
    expect(r.out).toMatch(/dry run done, nothing was frozen or moved/);
    expect(r.out).not.toMatch(/web1 moved from lab-2/);
    expect(r.out).toMatch(/Provision check on lab-2: 0 change/);
    expect(await runcState('lab-2', 'web1')).toBe('running');
    expect(await runcState('lab-1', 'web1')).toBeNull();
    expect(await httpText('lab-2', 8080, '/instance')).toBe(instance);
  });
});
