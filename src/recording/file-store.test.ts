import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, describe, it } from 'node:test';
import { FileRecordingStore } from './file-store.js';
import { recordingMode } from './mode.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempStore(): Promise<{ dir: string; store: FileRecordingStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'rec-'));
  dirs.push(dir);
  return { dir, store: new FileRecordingStore(dir) };
}

describe('FileRecordingStore', () => {
  it('numbers attaches per uid, lists and reads them back, and indexes them', async () => {
    const { dir, store } = await tempStore();
    const key = { namespace: 'ns', name: 'dbg', uid: 'uid-1' };
    const [a, b] = await Promise.all([store.create(key), store.create(key)]);
    assert.deepEqual([a!.attach, b!.attach].sort(), [1, 2]);
    await a!.write('one\n');
    await b!.write('two\n');
    await Promise.all([a!.close(), b!.close()]);
    const list = await store.list(key);
    assert.deepEqual(list.map((e) => [e.attach, e.size, e.uid]), [[1, 4, 'uid-1'], [2, 4, 'uid-1']]);
    assert.equal(await text((await store.open(key, a!.attach))!), 'one\n');
    assert.equal(await store.open(key, 9), undefined);
    const index = (await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { uid: string; file: string });
    assert.equal(index.length, 2);
    assert.match(index[0]!.file, /^ns\/dbg\/uid-1\/attach-\d\.cast$/);
  });

  it('finds the newest uid of a name when none is given (the session was deleted and re-created)', async () => {
    const { store } = await tempStore();
    const old = await store.create({ namespace: 'ns', name: 'dbg', uid: 'old' });
    await old.close();
    await new Promise((r) => setTimeout(r, 20));
    const now = await store.create({ namespace: 'ns', name: 'dbg', uid: 'new' });
    await now.write('x');
    await now.close();
    assert.deepEqual((await store.list({ namespace: 'ns', name: 'dbg', uid: '' })).map((e) => e.uid), ['new']);
    assert.deepEqual(await store.list({ namespace: 'ns', name: 'other', uid: '' }), []);
  });

  it('refuses names that would leave its directory', async () => {
    const { store } = await tempStore();
    await assert.rejects(store.create({ namespace: '..', name: 'x', uid: 'u' }), /not a namespace\/name/);
    await assert.rejects(store.create({ namespace: 'ns', name: 'x', uid: '../../etc' }), /not a uid/);
    await assert.rejects(store.list({ namespace: 'ns/../..', name: 'x', uid: '' }), /not a namespace\/name/);
  });

  it('names itself when it cannot be written', { skip: process.getuid?.() === 0 && 'root writes through file modes' }, async () => {
    const { dir, store } = await tempStore();
    await chmod(dir, 0o500);
    await assert.rejects(store.create({ namespace: 'ns', name: 'x', uid: 'u' }), new RegExp(`recording store file:${dir}: cannot write`));
  });

  it('says at start whether it can be written', async () => {
    const { dir, store } = await tempStore();
    assert.equal(await store.problem(), undefined);
    await (await store.create({ namespace: 'a', name: 'b', uid: 'c' })).close();
    assert.match(await new FileRecordingStore(join(dir, 'index.jsonl')).problem() ?? '', /recording store file:.*index\.jsonl cannot be written: .*(ENOTDIR|EEXIST)/);
  });

  it('names itself when its directory is a file (unwritable for root too)', async () => {
    const { dir } = await tempStore();
    const store = new FileRecordingStore(join(dir, 'index.jsonl'));
    await (await new FileRecordingStore(dir).create({ namespace: 'a', name: 'b', uid: 'c' })).close();
    await assert.rejects(store.create({ namespace: 'ns', name: 'x', uid: 'u' }), /recording store file:.*index\.jsonl: cannot write .*ENOTDIR/);
  });
});

describe('FileRecordingStore.prune', () => {
  it('deletes the sessions nothing was added to since the cut-off, and the folders left empty', async () => {
    const { dir, store } = await tempStore();
    for (const uid of ['old', 'new']) await (await store.create({ namespace: 'ns', name: uid === 'old' ? 'gone' : 'kept', uid })).close();
    const past = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'ns', 'gone', 'old'), past, past);
    assert.equal(await store.prune(Date.now() - 60_000), 1);
    assert.deepEqual(await store.list({ namespace: 'ns', name: 'gone', uid: '' }), []);
    assert.equal((await store.list({ namespace: 'ns', name: 'kept', uid: '' })).length, 1);
    assert.deepEqual((await readdir(join(dir, 'ns'))).sort(), ['kept']);
    assert.equal(await store.prune(Date.now() - 60_000), 0);
  });
});

describe('recordingMode', () => {
  it('takes the policy\'s mode, else Required under approval, else BestEffort', () => {
    assert.equal(recordingMode({ policyMode: 'Off', approvalsRequired: 2 }), 'Off');
    assert.equal(recordingMode({ policyMode: 'BestEffort' }), 'BestEffort');
    assert.equal(recordingMode({ approvalsRequired: 1 }), 'Required');
    assert.equal(recordingMode({ approvalsRequired: 0 }), 'BestEffort');
    assert.equal(recordingMode({ policyMode: 'bogus' }), 'BestEffort');
  });
});
