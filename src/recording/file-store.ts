/**
 * The `file` recording store: a directory (a volume; shared for several
 * replicas) holding NAMESPACE/NAME/UID/attach-N.cast, one file per attach, and
 * index.jsonl beside them (one line per recording created, for tools that
 * walk the directory). Writes go through a write stream and wait for 'drain',
 * so a slow disk slows the relay instead of filling memory.
 */
import { constants, createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { access, appendFile, mkdir, open, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { AUDIT_FILE, RecordingStoreError, SAFE_UID, attachOf, castName, checkKey, type RecordingEntry, type RecordingKey, type RecordingStore, type RecordingWriter } from './store.js';

/** A namespace's or name's folder. */
const SAFE = /^[a-z0-9][a-z0-9.-]{0,252}$/;

function errnoOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One attach's file, written in order with backpressure. */
class FileWriter implements RecordingWriter {
  private failure: Error | undefined;
  private written = 0;

  constructor(readonly attach: number, private readonly path: string, private readonly out: WriteStream, private readonly store: string) {
    out.on('error', (e) => { this.failure = new RecordingStoreError(store, `writing ${path} failed: ${errnoOf(e)}`); });
  }

  /**
   * The bytes of the line being written, reused: writes come one at a time (each
   * after the last resolved, so after the stream took it), and a new Buffer per
   * line is memory outside V8's heap that only a full collection frees (recording
   * 200 MiB left up to 32 MiB of them uncollected; ADR 43).
   */
  private bytes = Buffer.allocUnsafe(64 << 10);

  write(chunk: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.written += chunk.length;
    const size = Buffer.byteLength(chunk);
    if (size > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(size, this.bytes.length * 2));
    this.bytes.write(chunk, 0, 'utf8');
    const line = this.bytes.subarray(0, size);
    return new Promise((resolve, reject) => {
      const ok = this.out.write(line, (e) => {
        if (e) reject(new RecordingStoreError(this.store, `writing ${this.path} failed: ${errnoOf(e)}`));
        else if (ok) resolve();
      });
      if (!ok) this.out.once('drain', () => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  /** Closes; a recording nothing was written to (the attach never started) is removed. */
  async abort(): Promise<void> {
    await this.close().catch(() => undefined);
    if (this.written === 0) await unlink(this.path).catch(() => undefined);
  }
}

/** Recordings in a directory. */
export class FileRecordingStore implements RecordingStore {
  readonly kind = 'file';
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `file:${dir}`;
  }

  /** Why the store cannot be written now, or undefined when it can (checked at start, for the log). */
  async problem(): Promise<string | undefined> {
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, constants.W_OK);
      return undefined;
    } catch (e) {
      return `recording store ${this.description} cannot be written: ${errnoOf(e)}`;
    }
  }

  async create(key: RecordingKey): Promise<RecordingWriter> {
    checkKey(key, true);
    const folder = join(this.dir, key.namespace, key.name, key.uid);
    try {
      await mkdir(folder, { recursive: true });
      // The next free number, taken with an exclusive create: two replicas on a shared volume never share one.
      for (let n = (await this.numbers(folder)).at(-1) ?? 0; ; ) {
        n += 1;
        const path = join(folder, castName(n));
        const handle = await open(path, 'wx').catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
        if (!handle) continue;
        const line = JSON.stringify({ ...key, attach: n, file: join(key.namespace, key.name, key.uid, castName(n)), createdAt: new Date().toISOString() });
        await appendFile(join(this.dir, 'index.jsonl'), `${line}\n`);
        return new FileWriter(n, path, createWriteStream(path, { fd: handle, autoClose: true, highWaterMark: 64 << 10 }), this.description);
      }
    } catch (e) {
      throw new RecordingStoreError(this.description, `cannot write ${folder}: ${errnoOf(e)}`);
    }
  }

  private async numbers(folder: string): Promise<number[]> {
    const names = await readdir(folder).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
    return names.map(attachOf).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  }

  /** The uid a listing means: the one given, else the newest folder under namespace/name. */
  private async uidOf(key: RecordingKey): Promise<string | undefined> {
    if (key.uid) return key.uid;
    const base = join(this.dir, key.namespace, key.name);
    const uids = await readdir(base).catch(() => [] as string[]);
    const dated = await Promise.all(uids.filter((u) => SAFE_UID.test(u)).map(async (u) => ({ u, t: (await stat(join(base, u))).mtimeMs })));
    return dated.sort((a, b) => a.t - b.t).at(-1)?.u;
  }

  async list(key: RecordingKey): Promise<RecordingEntry[]> {
    checkKey(key, false);
    const uid = await this.uidOf(key);
    if (!uid || !SAFE_UID.test(uid)) return [];
    const folder = join(this.dir, key.namespace, key.name, uid);
    return Promise.all((await this.numbers(folder)).map(async (attach) => {
      const st = await stat(join(folder, castName(attach)));
      return { namespace: key.namespace, name: key.name, uid, attach, size: st.size, createdAt: st.birthtime.toISOString() };
    }));
  }

  /**
   * Deletes the recordings of sessions (uid folders) last written before
   * `beforeMs`, and folders left empty; resolves with how many uid folders went.
   * index.jsonl keeps its lines: it is a log of what was recorded.
   */
  async prune(beforeMs: number): Promise<number> {
    let removed = 0;
    for (const folder of await this.uidFolders()) {
      if ((await stat(folder)).mtimeMs >= beforeMs) continue;
      await rm(folder, { recursive: true, force: true });
      removed += 1;
      // The name's and the namespace's folders go when they are left empty.
      await rmdir(dirname(folder)).then(() => rmdir(dirname(dirname(folder)))).catch(() => undefined);
    }
    return removed;
  }

  /** Every NAMESPACE/NAME/UID folder. */
  private async uidFolders(): Promise<string[]> {
    const ls = (p: string): Promise<string[]> => readdir(p).catch(() => [] as string[]);
    const names = (await Promise.all((await ls(this.dir)).filter((n) => SAFE.test(n)).map(async (ns) => (await ls(join(this.dir, ns))).map((n) => join(this.dir, ns, n))))).flat();
    return (await Promise.all(names.map(async (base) => (await ls(base)).map((u) => join(base, u))))).flat();
  }

  /** Appends the event as one line to NAMESPACE/NAME/UID/audit.jsonl (one append: lines never interleave). */
  async appendAudit(key: RecordingKey, _id: string, line: string): Promise<void> {
    checkKey(key, true);
    const folder = join(this.dir, key.namespace, key.name, key.uid);
    try {
      await mkdir(folder, { recursive: true });
      await appendFile(join(folder, AUDIT_FILE), `${line}\n`);
    } catch (e) {
      throw new RecordingStoreError(this.description, `cannot write ${join(folder, AUDIT_FILE)}: ${errnoOf(e)}`);
    }
  }

  async open(key: RecordingKey, attach: number): Promise<Readable | undefined> {
    checkKey(key, false);
    const uid = await this.uidOf(key);
    if (!uid || !SAFE_UID.test(uid) || !Number.isInteger(attach) || attach < 0) return undefined;
    const path = join(this.dir, key.namespace, key.name, uid, castName(attach));
    const exists = await stat(path).then(() => true, () => false);
    return exists ? createReadStream(path) : undefined;
  }
}
