import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSteps } from '../../../src/cli/steps.ts';
import { ErrorCode, FerryError } from '../../../src/errors.ts';

describe('runSteps', () => {
  const tmp = process.env.TMPDIR;
  let dir: string | undefined;
  afterEach(async () => {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails with ConfigInvalid, naming both places and FERRY_LAB_DIR, when no log file can be made', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-steps-'));
    // A plain file where a directory should be: not even root can make a directory under it.
    const file = path.join(dir, 'not-a-directory');
    await writeFile(file, '');
    process.env.TMPDIR = file;
    const io = { out: () => undefined, err: () => undefined, isTTY: false };
    let ran = false;
    const e = await runSteps(io, { command: 'lab-up', logDir: file }, async () => {
      ran = true;
    }).catch((x: unknown) => x);
    expect(ran).toBe(false);
    expect(e).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.ConfigInvalid);
    expect((e as FerryError).message).toContain(`cannot create a log file in ${file}/logs or ${file}/ferry-logs`);
    expect((e as FerryError).message).toContain('set FERRY_LAB_DIR');
  });
});
