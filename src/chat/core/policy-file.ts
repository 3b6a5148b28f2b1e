import { readFile } from 'node:fs/promises';
import { ErrorCode, FerryError } from '../../errors.ts';
import type { Policy } from './policy-types.ts';
import { loadPolicy } from './policy-load.ts';

/**
 * Reads and validates a policy JSON file: the only I/O in the chat core.
 * @throws FerryError `ferry_policy_invalid` when the file is missing, not JSON, or invalid.
 */
export async function readPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FerryError(ErrorCode.PolicyInvalid, `cannot read the policy file ${file}: ${(e as Error).message}`, { original: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FerryError(ErrorCode.PolicyInvalid, `${file} is not valid JSON: ${(e as Error).message}`, { original: e });
  }
  return loadPolicy(json, file);
}
