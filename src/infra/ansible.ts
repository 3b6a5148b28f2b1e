import path from 'node:path';
import { REPO_ROOT, pkiDirOf } from '../config.ts';
import { runLocal, type LocalRunOptions } from '../util/run-local.ts';

export interface PlaybookOptions extends LocalRunOptions {
  limit?: string;
  extraVars?: Record<string, string | number | boolean>;
  /** `--check`: report what would change, change nothing. */
  check?: boolean;
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

export interface PlaybookResult {
  recap: Record<string, HostRecap>;
  output: string;
}

export const PLAYBOOK_DIR = path.join(REPO_ROOT, 'playbooks');

/** Runs one of Ferry's playbooks; extra vars go as one JSON argument, never through a shell. */
export async function runPlaybook(playbook: string, inventory: string, opts: PlaybookOptions = {}): Promise<PlaybookResult> {
  const args = ['-i', inventory, path.join(PLAYBOOK_DIR, playbook)];
  if (opts.limit) args.push('--limit', opts.limit);
  if (opts.extraVars) args.push('--extra-vars', JSON.stringify(opts.extraVars));
  if (opts.check) args.push('--check');
  const r = await runLocal('ansible-playbook', args, {
    ...opts,
    env: {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_PIPELINING: '1',
      ANSIBLE_LOCALHOST_WARNING: '0',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
      // Where provision.yml finds the environment's certificates (see src/infra/pki.ts).
      FERRY_PKI_DIR: pkiDirOf(process.env),
      ...opts.env,
    },
  });
  return { recap: parseRecap(r.stdout), output: r.stdout };
}

/** Parses PLAY RECAP lines: `lab-1 : ok=5 changed=0 unreachable=0 failed=0 ...`. */
export function parseRecap(output: string): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of output.slice(start).split('\n').slice(1)) {
    const m = /^(\S+)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
    recap[m[1]!] = { ok: kv.ok ?? 0, changed: kv.changed ?? 0, unreachable: kv.unreachable ?? 0, failed: kv.failed ?? 0 };
  }
  return recap;
}
