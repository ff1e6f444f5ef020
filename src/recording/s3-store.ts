/**
 * The `s3` recording store: any S3-compatible bucket (AWS, SeaweedFS, MinIO,
 * Ceph RGW, ...), one object per attach at
 * PREFIX/NAMESPACE/NAME/UID/attach-N.cast (ADR 38). An attach's number is
 * claimed by writing an empty object there with `If-None-Match: *`, so two
 * replicas never share one; the recording replaces it when it completes.
 * Writes are buffered up to one part (5 MiB, S3's smallest part but the
 * last) and uploaded before the writer takes more, so an attach costs at
 * most one part of memory whatever it prints: a recording under a part is
 * one PutObject at close, a longer one a multipart upload.
 *
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY from a Secret, a web identity token, ...), never from
 * flags, and are never logged.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand, type _Object, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { RecordingStoreError, attachOf, castName, checkKey, type RecordingEntry, type RecordingKey, type RecordingStore, type RecordingWriter } from './store.js';

/** Where the bucket is (src/config.ts reads it from flags). */
export interface S3StoreConfig {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  /** '' for AWS; else the endpoint URL (http://127.0.0.1:8333), without credentials. */
  endpoint: string;
  region: string;
  /** Bucket in the path (http://host/bucket/key), as most S3-compatible servers want. */
  forcePathStyle: boolean;
}

/** S3's smallest part, but for the last one: what an attach may hold in memory. */
export const PART_SIZE = 5 << 20;
const CONTENT_TYPE = 'application/x-asciicast';
/** A recording's key below the prefix. */
const RECORDING_KEY = /^[^/]+\/[^/]+\/[^/]+\/attach-\d+\.cast$/;

/** The S3 client for a config: bounded timeouts, and checksums only where required off AWS (many S3-compatible servers reject the SDK's newer defaults). */
export function s3ClientConfig(cfg: S3StoreConfig): S3ClientConfig {
  return {
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  };
}

/** What an S3 error says: its name and message, or the socket's code (ECONNREFUSED). */
function why(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: string }).code;
  const text = [e.name !== 'Error' ? e.name : '', e.message, code && !e.message.includes(code) ? code : ''].filter(Boolean).join(': ');
  return text || 'unknown error';
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** One attach's object, written in parts. */
class S3Writer implements RecordingWriter {
  /**
   * The part being filled, reused from part to part: no garbage per write, so
   * memory stays one part whatever is recorded. It starts small and doubles up
   * to a part, so the many short attaches cost little.
   */
  private part = Buffer.allocUnsafe(0);
  private buffered = 0;
  private written = 0;
  private uploadId: string | undefined;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private failure: Error | undefined;
  private done = false;

  constructor(readonly attach: number, private readonly client: S3Client, private readonly bucket: string, private readonly key: string, private readonly store: string) {}

  async write(chunk: string): Promise<void> {
    if (this.failure) throw this.failure;
    const size = Buffer.byteLength(chunk);
    this.grow(Math.min(PART_SIZE, this.buffered + size));
    this.written += size;
    if (this.buffered + size <= PART_SIZE) {
      this.buffered += this.part.write(chunk, this.buffered);
    } else {
      // Rare (once a part): the line crosses the part's end, bytes go on in the next part.
      const bytes = Buffer.from(chunk);
      for (let at = 0; at < bytes.length;) {
        this.grow(PART_SIZE);
        const n = bytes.copy(this.part, this.buffered, at, Math.min(bytes.length, at + PART_SIZE - this.buffered));
        this.buffered += n;
        at += n;
        // The caller waits for the part to be uploaded: the relay's backpressure (ADR 30).
        if (this.buffered === PART_SIZE) await this.guard('uploading a part of', () => this.uploadPart());
      }
    }
    if (this.buffered === PART_SIZE) await this.guard('uploading a part of', () => this.uploadPart());
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.done) return;
    this.done = true;
    await this.guard('completing', async () => {
      if (this.uploadId === undefined) {
        const body = this.take();
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body, ContentLength: body.length, ContentType: CONTENT_TYPE }));
        return;
      }
      if (this.buffered > 0) await this.uploadPart();
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }));
    });
  }

  /**
   * Keeps what was written, as a truncated recording (an auditor wants the
   * part before the failure); a recording nothing was written to goes.
   */
  async abort(): Promise<void> {
    if (this.done) return;
    if (this.written === 0) {
      this.done = true;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key })).catch(() => undefined);
      return;
    }
    this.failure = undefined;
    await this.close().catch(async () => {
      if (this.uploadId) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId })).catch(() => undefined);
    });
  }

  /** Makes room for `needed` bytes in the part (at most a part's size). */
  private grow(needed: number): void {
    if (needed <= this.part.length) return;
    const bigger = Buffer.allocUnsafe(Math.min(PART_SIZE, Math.max(needed, 2 * this.part.length, 64 << 10)));
    this.part.copy(bigger, 0, 0, this.buffered);
    this.part = bigger;
  }

  /** The bytes buffered, as a view of the part (valid until the next write: each write waits for the upload). */
  private take(): Buffer {
    const body = this.part.subarray(0, this.buffered);
    this.buffered = 0;
    return body;
  }

  private async uploadPart(): Promise<void> {
    this.uploadId ??= (await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: CONTENT_TYPE }))).UploadId;
    if (!this.uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    const PartNumber = this.parts.length + 1;
    const body = this.take();
    const r = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length }));
    this.parts.push({ PartNumber, ETag: r.ETag ?? '' });
  }

  private async guard(what: string, f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      this.failure = new RecordingStoreError(this.store, `${what} ${this.key} failed: ${why(e)}`);
      throw this.failure;
    }
  }
}

/** Recordings in an S3 bucket. */
export class S3RecordingStore implements RecordingStore {
  readonly kind = 's3';
  readonly description: string;
  /** Creates one at a time in this process: two attaches never claim the same number, even where If-None-Match is not honoured. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly cfg: S3StoreConfig, private readonly client = new S3Client(s3ClientConfig(cfg))) {
    this.description = `s3://${cfg.bucket}/${cfg.prefix}${cfg.endpoint ? ` at ${cfg.endpoint}` : ''}`;
  }

  private folder(key: RecordingKey, uid = key.uid): string {
    return `${this.cfg.prefix}${key.namespace}/${key.name}/${uid}/`;
  }

  async problem(): Promise<string | undefined> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.cfg.bucket }));
      return undefined;
    } catch (e) {
      return `recording store ${this.description} cannot be reached: ${status(e) === 404 ? 'no such bucket' : why(e)}`;
    }
  }

  async create(key: RecordingKey): Promise<RecordingWriter> {
    checkKey(key, true);
    const next = this.creating.then(() => this.claim(key));
    this.creating = next.catch(() => undefined);
    return next;
  }

  /** Claims the next free number with an empty object written only if none is there. */
  private async claim(key: RecordingKey): Promise<RecordingWriter> {
    const folder = this.folder(key);
    try {
      const taken = (await this.objects(folder)).map((o) => attachOf((o.Key ?? '').slice(folder.length))).filter((n): n is number => n !== undefined);
      for (let n = Math.max(0, ...taken) + 1, tries = 0; tries < 100; n += 1, tries += 1) {
        const objectKey = `${folder}${castName(n)}`;
        const claimed = await this.client.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: objectKey, Body: new Uint8Array(0), ContentLength: 0, IfNoneMatch: '*', ContentType: CONTENT_TYPE })).then(
          () => true,
          (e: unknown) => (status(e) === 412 ? false : Promise.reject(e)),
        );
        if (claimed) return new S3Writer(n, this.client, this.cfg.bucket, objectKey, this.description);
      }
      throw new Error('no free attach number after 100 tries');
    } catch (e) {
      throw new RecordingStoreError(this.description, `cannot write ${folder}: ${why(e)}`);
    }
  }

  /** Every object under a prefix, page by page. */
  private async objects(prefix: string): Promise<_Object[]> {
    const all: _Object[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, ContinuationToken: token }));
      all.push(...(page.Contents ?? []));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return all;
  }

  /** Recordings under a prefix grouped by their session folder (NAMESPACE/NAME/UID/), with the newest write of each; other objects are left out. */
  private async sessions(prefix: string): Promise<Map<string, { keys: string[]; newest: number }>> {
    const groups = new Map<string, { keys: string[]; newest: number }>();
    for (const o of await this.objects(prefix)) {
      const k = o.Key ?? '';
      if (!RECORDING_KEY.test(k.slice(this.cfg.prefix.length))) continue;
      const folder = k.slice(0, k.lastIndexOf('/') + 1);
      const g = groups.get(folder) ?? { keys: [], newest: 0 };
      g.keys.push(k);
      g.newest = Math.max(g.newest, o.LastModified?.getTime() ?? 0);
      groups.set(folder, g);
    }
    return groups;
  }

  /** The uid a listing means: the one given, else the one written last under namespace/name. */
  private async uidOf(key: RecordingKey): Promise<string | undefined> {
    if (key.uid) return key.uid;
    const base = `${this.cfg.prefix}${key.namespace}/${key.name}/`;
    const newest = [...(await this.sessions(base)).entries()].sort((a, b) => a[1].newest - b[1].newest).at(-1)?.[0];
    const uid = newest?.slice(base.length, -1);
    return uid && !uid.includes('/') ? uid : undefined;
  }

  async list(key: RecordingKey): Promise<RecordingEntry[]> {
    checkKey(key, false);
    const uid = await this.uidOf(key);
    if (!uid) return [];
    checkKey({ ...key, uid }, true);
    const folder = this.folder(key, uid);
    return (await this.objects(folder))
      .map((o) => ({ o, attach: attachOf((o.Key ?? '').slice(folder.length)) }))
      .filter((x): x is { o: _Object; attach: number } => x.attach !== undefined)
      .sort((a, b) => a.attach - b.attach)
      // createdAt: when S3 last stored the object (a recording is stored whole when its attach ends).
      .map(({ o, attach }) => ({ namespace: key.namespace, name: key.name, uid, attach, size: o.Size ?? 0, createdAt: (o.LastModified ?? new Date(0)).toISOString() }));
  }

  async open(key: RecordingKey, attach: number): Promise<Readable | undefined> {
    checkKey(key, false);
    const uid = await this.uidOf(key);
    if (!uid || !Number.isInteger(attach) || attach < 0) return undefined;
    checkKey({ ...key, uid }, true);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: `${this.folder(key, uid)}${castName(attach)}` }));
      return r.Body as Readable | undefined;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw new RecordingStoreError(this.description, `reading ${castName(attach)} failed: ${why(e)}`);
    }
  }

  /**
   * One object per event, PREFIX/NAMESPACE/NAME/UID/audit/ID.json: S3 has no append, and
   * the same event written twice (a replayed step) lands on the same key. Readers sort by
   * `time`. Retention does not delete them (they are not recordings): use a lifecycle rule.
   */
  async appendAudit(key: RecordingKey, id: string, line: string): Promise<void> {
    checkKey(key, true);
    if (!/^[a-f0-9]{1,64}$/.test(id)) throw new Error(`not an audit event id: ${id}`);
    const body = Buffer.from(`${line}\n`);
    const objectKey = `${this.folder(key)}audit/${id}.json`;
    await this.client.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: objectKey, Body: body, ContentLength: body.length, ContentType: 'application/json' }))
      .catch((e: unknown) => { throw new RecordingStoreError(this.description, `writing ${objectKey} failed: ${why(e)}`); });
  }

  async prune(beforeMs: number): Promise<number> {
    let removed = 0;
    for (const { keys, newest } of (await this.sessions(this.cfg.prefix)).values()) {
      if (newest >= beforeMs) continue;
      for (let i = 0; i < keys.length; i += 1000) {
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.cfg.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
      removed += 1;
    }
    return removed;
  }
}
