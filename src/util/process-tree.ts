import { readdir, readFile } from 'node:fs/promises';

/** One process as /proc/<pid>/stat shows it: enough to walk the tree and to recognise the same process later. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: a reused pid has another. */
  start: string;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so fields are counted from the last `)`.
 */
export function parseStat(text: string): ProcEntry | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22 (starttime).
  const ppid = Number(rest[1]);
  const start = rest[19];
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || start === undefined) return null;
  return { pid, ppid, start };
}

/** `root` and every process below it, parents before children (pure). */
export function treeOf(root: number, table: readonly ProcEntry[]): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const self = table.find((p) => p.pid === root);
  const out: ProcEntry[] = self ? [self] : [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (c.pid === root || out.includes(c)) continue;
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

async function procTable(): Promise<ProcEntry[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  const entries = await Promise.all(pids.map((p) => readFile(`/proc/${p}/stat`, 'utf8').then(parseStat, () => null)));
  return entries.filter((e): e is ProcEntry => e !== null);
}

function signal(p: ProcEntry, sig: NodeJS.Signals): void {
  try {
    process.kill(p.pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends a process and everything it started: SIGTERM to the whole tree at once, then SIGKILL after
 * `graceMs` to those still alive (the same processes: pid and start time). A tree, not only the
 * process: ansible-playbook's forked workers and their tasks keep its output pipe open, so killing
 * only the top process leaves them running and the caller waiting for the pipe to close.
 */
export async function stopTree(pid: number, graceMs = 5000): Promise<void> {
  const key = (p: ProcEntry) => `${p.pid}:${p.start}`;
  let left = treeOf(pid, await procTable());
  if (!left.length) return;
  for (const p of left) signal(p, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (left.length) {
    await new Promise((r) => setTimeout(r, 100));
    const table = await procTable();
    const alive = new Set(table.map(key));
    const known = new Set(left.map(key));
    left = left.filter((p) => alive.has(key(p)));
    // A process forked while the tree was being signalled (an Ansible worker starting a task) was
    // not in the first walk: take in what the survivors started since, or it keeps the pipe open.
    for (const p of left.flatMap((q) => treeOf(q.pid, table))) {
      if (known.has(key(p))) continue;
      known.add(key(p));
      left.push(p);
      signal(p, 'SIGTERM');
    }
    if (!left.length) return;
    if (performance.now() >= deadline) break;
  }
  for (const p of left) signal(p, 'SIGKILL');
}
