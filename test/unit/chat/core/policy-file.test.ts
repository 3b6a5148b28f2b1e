import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyFile } from '../../../../src/chat/core/policy-file.ts';
import { ErrorCode, FerryError } from '../../../../src/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(file: string): Promise<FerryError> {
  const e = await readPolicyFile(file).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FerryError);
  expect((e as FerryError).code).toBe(ErrorCode.PolicyInvalid);
  return e as FerryError;
}

describe('readPolicyFile', () => {
  it('reads and validates a policy file', async () => {
    const file = path.join(dir, 'ok.json');
    await writeFile(file, JSON.stringify({ environments: { lab: { requesters: ['U0ALICE01'], approvers: ['U0BOB0001'] } }, approvalTtlMinutes: 5 }));
    const p = await readPolicyFile(file);
    expect(p.environments.lab).toEqual({ requesters: ['U0ALICE01'], approvers: ['U0BOB0001'], viewers: ['U0ALICE01', 'U0BOB0001'] });
    expect(p.approvalTtlMinutes).toBe(5);
  });

  it('says which file is missing', async () => {
    const file = path.join(dir, 'nope.json');
    expect((await rejection(file)).message).toMatch(new RegExp(`^cannot read the policy file ${file}: ENOENT`));
  });

  it('says which file is not JSON', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{ environments: ');
    expect((await rejection(file)).message).toMatch(new RegExp(`^${file} is not valid JSON: `));
  });

  it('names the file and the field of an invalid policy', async () => {
    const file = path.join(dir, 'invalid.json');
    await writeFile(file, JSON.stringify({ environments: { lab: { requesters: ['alice'], approvers: [] } } }));
    expect((await rejection(file)).message).toMatch(new RegExp(`^${file}: environments\\.lab\\.requesters\\[0\\] 'alice'`));
  });
});
