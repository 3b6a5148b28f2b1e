import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { validateName } from '../util/names.ts';
import { CLOUD_PROVIDERS, CloudEnvironment, type CloudProvider, type EnvironmentRecord } from './providers/CloudEnvironment.ts';
import { labProvider } from './providers/labs.ts';
import type { EnvironmentProvider, Say } from './providers/provider.ts';

/** Where environments live on the controller: one directory each (state, keys, hosts file). */
export function envRoot(config: Pick<FerryConfig, 'labDir'>): string {
  return path.join(config.labDir, 'envs');
}

export function envDir(config: Pick<FerryConfig, 'labDir'>, name: string): string {
  return path.join(envRoot(config), validateName('environment', name));
}

export function parseCloudProvider(s: string): CloudProvider {
  if ((CLOUD_PROVIDERS as readonly string[]).includes(s)) return s as CloudProvider;
  throw new FerryError(ErrorCode.UsageError, `unknown provider '${s}': choose local or qemu (the lab, ferry lab up), or ${CLOUD_PROVIDERS.join(', ')}`);
}

/** Default host names: one Debian host per site, named after it (`aws-1`, `gcp-1`). */
export function defaultHosts(provider: CloudProvider, count = 1): string[] {
  const n = (p: string) => Array.from({ length: count }, (_, i) => `${p}-${i + 1}`);
  return provider === 'two-clouds' ? [...n('aws'), ...n('gcp')] : n(provider);
}

export async function readEnvironment(config: Pick<FerryConfig, 'labDir'>, name: string): Promise<EnvironmentRecord> {
  try {
    return JSON.parse(await readFile(path.join(envDir(config, name), 'env.json'), 'utf8')) as EnvironmentRecord;
  } catch {
    throw new FerryError(ErrorCode.UnknownHost, `no environment named '${name}' (ferry env list)`);
  }
}

export async function writeEnvironment(config: Pick<FerryConfig, 'labDir'>, rec: EnvironmentRecord): Promise<void> {
  const dir = envDir(config, rec.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'env.json'), JSON.stringify(rec, null, 2));
}

export async function listEnvironments(config: Pick<FerryConfig, 'labDir'>): Promise<EnvironmentRecord[]> {
  let names: string[];
  try {
    names = await readdir(envRoot(config));
  } catch {
    return [];
  }
  const out: EnvironmentRecord[] = [];
  for (const n of names.sort()) out.push(await readEnvironment(config, n).catch(() => null as never));
  return out.filter(Boolean);
}

export async function removeEnvironment(config: Pick<FerryConfig, 'labDir'>, name: string): Promise<void> {
  await rm(envDir(config, name), { recursive: true, force: true });
}

export function cloudEnvironment(config: Pick<FerryConfig, 'labDir'>, rec: EnvironmentRecord, say?: Say): CloudEnvironment {
  return new CloudEnvironment(envDir(config, rec.name), rec, say);
}

/**
 * The provider behind an environment's name (a hosts file's `environment`): the lab's (`local`,
 * `qemu`) or a cloud environment made by `ferry env create`; null when this controller has none.
 */
export async function environmentProvider(name: string, config: FerryConfig, say?: Say): Promise<EnvironmentProvider | null> {
  const lab = labProvider(name, config, say);
  if (lab) return lab;
  try {
    return cloudEnvironment(config, await readEnvironment(config, name), say);
  } catch {
    return null;
  }
}

