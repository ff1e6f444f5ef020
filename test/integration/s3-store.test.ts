/**
 * The s3 recording store against a real S3-compatible server: SeaweedFS,
 * started here on free loopback ports (tools/support/seaweedfs.ts) and stopped
 * by its PID. No cluster needed.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CastRecorder } from '../../src/recording/cast.js';
import { PART_SIZE, S3RecordingStore, s3ClientConfig, type S3StoreConfig } from '../../src/recording/s3-store.js';
import { SeaweedS3 } from '../../tools/support/seaweedfs.js';

describe('S3RecordingStore against SeaweedFS', () => {
  const server = new SeaweedS3();
  let cfg: S3StoreConfig;
  let client: S3Client;
  let store: S3RecordingStore;
  const storeWith = (over: Partial<S3StoreConfig> = {}, credentials = server.credentials): S3RecordingStore => {
    const c = { ...cfg, ...over };
    return new S3RecordingStore(c, new S3Client({ ...s3ClientConfig(c), credentials }));
  };

  before(async () => {
    await server.start();
    cfg = { bucket: server.bucket, prefix: 'rec/', endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true };
    client = new S3Client({ ...s3ClientConfig(cfg), credentials: server.credentials });
    store = storeWith();
  });

  after(async () => {
    client?.destroy();
    await server.stop();
  });

  it('numbers attaches per uid, claims the number while the attach runs, lists and reads them back', async () => {
    const key = { namespace: 'ns', name: 'dbg', uid: 'uid-1' };
    const [a, b] = await Promise.all([store.create(key), store.create(key)]);
    assert.deepEqual([a.attach, b.attach].sort(), [1, 2]);
    // The claim: an empty object, there before anything is written.
    const claim = await client.send(new HeadObjectCommand({ Bucket: cfg.bucket, Key: `rec/ns/dbg/uid-1/attach-${a.attach}.cast` }));
    assert.equal(claim.ContentLength, 0);
    await a.write('{"version":2}\n');
    await a.write('[0.5,"o","one"]\n');
    await b.write('two\n');
    await Promise.all([a.close(), b.close()]);
    const list = await store.list(key);
    assert.deepEqual(list.map((e) => [e.attach, e.size, e.uid, e.namespace, e.name]), [[1, a.attach === 1 ? 30 : 4, 'uid-1', 'ns', 'dbg'], [2, a.attach === 2 ? 30 : 4, 'uid-1', 'ns', 'dbg']]);
    assert.ok(list.every((e) => Date.parse(e.createdAt) > Date.now() - 600_000));
    assert.equal(await text((await store.open(key, a.attach))!), '{"version":2}\n[0.5,"o","one"]\n');
    const raw = await client.send(new GetObjectCommand({ Bucket: cfg.bucket, Key: `rec/ns/dbg/uid-1/attach-${b.attach}.cast` }));
    assert.equal(raw.ContentType, 'application/x-asciicast');
    assert.equal(await store.open(key, 9), undefined);
  });

  it('two replicas (two clients) creating at once never share a number (If-None-Match)', async () => {
    const key = { namespace: 'ns', name: 'race', uid: 'uid-r' };
    const replicas = [storeWith(), storeWith(), storeWith()];
    const writers = await Promise.all(replicas.flatMap((r) => [r.create(key), r.create(key)]));
    assert.deepEqual(writers.map((w) => w.attach).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6]);
    await Promise.all(writers.map(async (w) => { await w.write(`attach ${w.attach}\n`); await w.close(); }));
    for (const w of writers) assert.equal(await text((await store.open(key, w.attach))!), `attach ${w.attach}\n`);
  });

  it('uploads a recording longer than a part in parts, whole and in order', async () => {
    const key = { namespace: 'ns', name: 'big', uid: 'uid-big' };
    const w = await store.create(key);
    const line = `${JSON.stringify([1.5, 'o', 'x'.repeat(1000)])}\n`;
    const lines = Math.ceil((2 * PART_SIZE + 12345) / line.length);
    for (let i = 0; i < lines; i += 1) await w.write(line);
    await w.close();
    const [entry] = await store.list(key);
    assert.equal(entry?.size, lines * line.length);
    const head = await client.send(new HeadObjectCommand({ Bucket: cfg.bucket, Key: 'rec/ns/big/uid-big/attach-1.cast' }));
    assert.match(head.ETag ?? '', /-3"?$/, 'a multipart upload of three parts');
    const body = await text((await store.open(key, 1))!);
    assert.equal(body.length, lines * line.length);
    assert.equal(body, line.repeat(lines));
  });

  it('records 200 MiB of output through the recorder with RSS within 50 MiB of its start (printed)', async () => {
    const key = { namespace: 'ns', name: 'huge', uid: 'uid-huge' };
    const header = { width: 80, height: 24, timestamp: 0, execsession: { namespace: 'ns', name: 'huge', uid: 'uid-huge', pod: 'p', container: 'c', containerUser: { uid: 0, gid: 0 }, subject: 'alice', approvers: [] } };
    let failed: Error | undefined;
    const recorder = new CastRecorder(await store.create(key), header, Date.now(), Date.now, (e) => { failed = e; });
    const frame = Buffer.alloc(32 << 10, 'y');
    const total = 200 << 20;
    global.gc?.();
    const idle = process.memoryUsage().rss;
    let peak = 0;
    const started = Date.now();
    for (let sent = 0; sent < total; sent += frame.length) {
      recorder.output(frame);
      // What the relay does: pause the source while the store is behind.
      await recorder.drained();
      peak = Math.max(peak, process.memoryUsage().rss - idle);
    }
    recorder.exit(0);
    await recorder.close();
    assert.equal(failed, undefined);
    const [entry] = await store.list(key);
    process.stdout.write(`# s3 store: 200 MiB of output recorded (${((entry?.size ?? 0) / 2 ** 20).toFixed(1)} MiB stored) in ${((Date.now() - started) / 1000).toFixed(1)} s; RSS peak ${(peak / 2 ** 20).toFixed(1)} MiB above its start\n`);
    assert.ok((entry?.size ?? 0) > total, 'the whole output is stored');
    assert.ok(peak < 50 << 20, `RSS grew by ${(peak / 2 ** 20).toFixed(1)} MiB while 200 MiB was recorded`);
    await store.prune(Date.now() + 60_000);
  });

  it('finds the newest uid of a name when none is given (the session was deleted and re-created)', async () => {
    const old = await store.create({ namespace: 'ns', name: 'again', uid: 'old' });
    await old.write('old\n');
    await old.close();
    await new Promise((r) => setTimeout(r, 1100));
    const now = await store.create({ namespace: 'ns', name: 'again', uid: 'new' });
    await now.write('new\n');
    await now.close();
    assert.deepEqual((await store.list({ namespace: 'ns', name: 'again', uid: '' })).map((e) => e.uid), ['new']);
    assert.equal(await text((await store.open({ namespace: 'ns', name: 'again', uid: '' }, 1))!), 'new\n');
    assert.deepEqual((await store.list({ namespace: 'ns', name: 'again', uid: 'old' })).map((e) => e.uid), ['old']);
    assert.deepEqual(await store.list({ namespace: 'ns', name: 'never', uid: '' }), []);
  });

  it('abort: a recording nothing was written to goes; one cut short keeps what was written', async () => {
    const key = { namespace: 'ns', name: 'cut', uid: 'uid-c' };
    const empty = await store.create(key);
    await empty.abort(new Error('the attach never started'));
    assert.deepEqual(await store.list(key), []);
    const cut = await store.create(key);
    await cut.write('before the failure\n');
    await cut.abort(new Error('the relay failed'));
    assert.equal(await text((await store.open(key, cut.attach))!), 'before the failure\n');
  });

  it('keeps audit events as one object per event beside the recordings; the same id twice is one object; the listing leaves them out', async () => {
    const key = { namespace: 'ns', name: 'audited', uid: 'uid-a' };
    const rec = await store.create(key);
    await rec.write('x\n');
    await rec.close();
    await store.appendAudit(key, 'aa11', '{"id":"aa11","type":"requested"}');
    await store.appendAudit(key, 'bb22', '{"id":"bb22","type":"started"}');
    await store.appendAudit(key, 'aa11', '{"id":"aa11","type":"requested"}');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: cfg.bucket, Prefix: 'rec/ns/audited/uid-a/audit/' }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).sort(), ['rec/ns/audited/uid-a/audit/aa11.json', 'rec/ns/audited/uid-a/audit/bb22.json']);
    const one = await client.send(new GetObjectCommand({ Bucket: cfg.bucket, Key: 'rec/ns/audited/uid-a/audit/bb22.json' }));
    assert.equal(await one.Body?.transformToString(), '{"id":"bb22","type":"started"}\n');
    assert.deepEqual((await store.list(key)).map((e) => e.attach), [1], 'the listing shows recordings only');
    await assert.rejects(store.appendAudit(key, '../x', '{}'), /not an audit event id/);
    await assert.rejects(store.appendAudit({ ...key, name: '..' }, 'cc33', '{}'), /not a namespace\/name/);
  });

  it('refuses keys that would leave its prefix', async () => {
    await assert.rejects(store.create({ namespace: '..', name: 'x', uid: 'u' }), /not a namespace\/name/);
    await assert.rejects(store.create({ namespace: 'ns', name: 'x', uid: '../../etc' }), /not a uid/);
  });

  it('names itself when it cannot be written: wrong credentials, no bucket, no server', async () => {
    const key = { namespace: 'ns', name: 'denied', uid: 'u' };
    const forged = storeWith({}, { accessKeyId: server.accessKeyId, secretAccessKey: 'not-the-secret' });
    await assert.rejects(forged.create(key), (e: Error) => {
      assert.match(e.message, new RegExp(`^recording store s3://${cfg.bucket}/rec/ at ${server.endpoint}: cannot write rec/ns/denied/u/: .*(SignatureDoesNotMatch|AccessDenied|Forbidden)`));
      return true;
    });
    assert.match(await forged.problem() ?? '', /cannot be reached/);
    assert.match(await storeWith({ bucket: 'no-such-bucket' }).problem() ?? '', /recording store s3:\/\/no-such-bucket\/rec\/ .*cannot be reached: no such bucket/);
    const nowhere = storeWith({ endpoint: 'http://127.0.0.1:9' });
    await assert.rejects(nowhere.create(key), /recording store s3:\/\/recordings\/rec\/ at http:\/\/127\.0\.0\.1:9: cannot write .*ECONNREFUSED/);
    assert.equal(await store.problem(), undefined);
  });

  it('prune deletes the sessions nothing was added to since the cut-off, and leaves other objects', async () => {
    const p = storeWith({ prefix: 'prune/' });
    for (const uid of ['a', 'b']) {
      const w = await p.create({ namespace: 'ns', name: uid, uid });
      await w.write('x');
      await w.close();
    }
    await client.send(new PutObjectCommand({ Bucket: cfg.bucket, Key: 'prune/README', Body: 'not a recording' }));
    assert.equal(await p.prune(Date.now() - 600_000), 0);
    assert.equal(await p.prune(Date.now() + 60_000), 2);
    const left = await client.send(new ListObjectsV2Command({ Bucket: cfg.bucket, Prefix: 'prune/' }));
    assert.deepEqual(left.Contents?.map((o) => o.Key), ['prune/README']);
  });
});
