import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RemoteHost } from '../../hosts/RemoteHost.ts';
import { HOST_PATHS } from '../../hosts/paths.ts';
import type { JournalRecord } from './record.ts';

/** Where journal records are kept. Every migration writes to several stores, so losing one loses nothing. */
export interface JournalStore {
  readonly name: string;
  put(r: JournalRecord): Promise<void>;
  /** Every record the store holds (finished ones included, until they age out). */
  list(): Promise<JournalRecord[]>;
  remove(id: string): Promise<void>;
}

export function isJournalRecord(x: unknown): x is JournalRecord {
  const r = x as Partial<JournalRecord> | null;
  return typeof r === 'object' && r !== null && r.version === 1 && typeof r.id === 'string' && typeof r.container === 'string' && typeof r.seq === 'number' && typeof r.phase === 'string';
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** A directory of JSON files on the controller (the CLI's store: `ferry migrate` has no Redis). */
export class FileJournalStore implements JournalStore {
  readonly name: string;
  constructor(private readonly dir: string) {
    this.name = `file:${dir}`;
  }

  async put(r: JournalRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, `${r.id}.json`);
    // Write then rename: a crash mid-write leaves the previous record, never half of one.
    await writeFile(`${file}.tmp`, JSON.stringify(r, null, 2));
    await rename(`${file}.tmp`, file);
  }

  async list(): Promise<JournalRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: JournalRecord[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      try {
        const r = JSON.parse(await readFile(path.join(this.dir, n), 'utf8')) as unknown;
        if (isJournalRecord(r)) out.push(r);
      } catch {
        // a file that is not a record is not ours to judge: skip it
      }
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    if (!ID.test(id)) return;
    await rm(path.join(this.dir, `${id}.json`), { force: true });
  }
}

/** The journal on a host (the source): it survives the loss of the controller and of Redis together. */
export class HostJournalStore implements JournalStore {
  readonly name: string;
  constructor(private readonly host: RemoteHost) {
    this.name = `host:${host.name}`;
  }

  async put(r: JournalRecord): Promise<void> {
    await this.host.writeFile(`${HOST_PATHS.journal}/${r.id}.json`, JSON.stringify(r), '0600');
  }

  async list(): Promise<JournalRecord[]> {
    const ls = await this.host.exec(['find', HOST_PATHS.journal, '-maxdepth', '1', '-name', '*.json', '-type', 'f'], { idempotent: true, timeoutS: 30 });
    if (ls.code !== 0) return [];
    const out: JournalRecord[] = [];
    for (const f of ls.stdout.split('\n').filter(Boolean)) {
      const c = await this.host.exec(['cat', '--', f], { idempotent: true, timeoutS: 30 });
      try {
        const r = JSON.parse(c.stdout) as unknown;
        if (c.code === 0 && isJournalRecord(r)) out.push(r);
      } catch {
        // skip
      }
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    if (!ID.test(id)) return;
    await this.host.exec(['rm', '-f', `${HOST_PATHS.journal}/${id}.json`], { idempotent: true, timeoutS: 30 });
  }

  /**
   * The right to recover migration `id`, taken on the host that holds its record: a `mkdir`, which
   * exactly one process wins, whichever controller, worker or `ferry recover` it runs in (a claim
   * in Redis or in a controller's file only excludes processes that share it). A claim older than
   * `staleS` belongs to a recoverer that died: it is taken over.
   */
  async claimRecovery(id: string, staleS = 900): Promise<boolean> {
    if (!ID.test(id)) return false;
    const dir = `${HOST_PATHS.journal}/${id}.recovering`;
    const take = async () => (await this.host.exec(['mkdir', dir], { timeoutS: 30 })).code === 0;
    if (await take()) return true;
    const st = await this.host.exec(['stat', '-c', '%Y', dir], { idempotent: true, timeoutS: 30 });
    const now = await this.host.exec(['date', '+%s'], { idempotent: true, timeoutS: 30 });
    const age = Number(now.stdout.trim()) - Number(st.stdout.trim());
    if (st.code !== 0 || !(age > staleS)) return false;
    await this.host.exec(['rmdir', dir], { idempotent: true, timeoutS: 30 });
    return take();
  }

  async releaseRecovery(id: string): Promise<void> {
    if (!ID.test(id)) return;
    await this.host.exec(['rmdir', `${HOST_PATHS.journal}/${id}.recovering`], { idempotent: true, timeoutS: 30 });
  }
}

/** Merges records from several stores: for each id, the copy with the highest `seq`. */
export function newest(records: JournalRecord[]): JournalRecord[] {
  const by = new Map<string, JournalRecord>();
  for (const r of records) {
    const have = by.get(r.id);
    if (!have || r.seq > have.seq) by.set(r.id, r);
  }
  return [...by.values()];
}
