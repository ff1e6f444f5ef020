// One-shot commands' recordings at the reconcile tier (ADR 43): the real file
// store in a temporary directory, the helper's kept output served by the fake
// helper in blocks as the real one serves them.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileRecordingStore } from '../recording/file-store.js';
import { RecordingStoreError, type RecordingKey, type RecordingStore, type RecordingWriter } from '../recording/store.js';
import { NS, Scenario } from '../../test/support/reconcile-scenario.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** Stores whose writers fail every write from now on (a disk that filled up). */
const broken = new Set<RecordingStore>();

/** The file store, with writers that fail once the store is in `broken`. */
class BreakableStore extends FileRecordingStore {
  override async create(key: RecordingKey): Promise<RecordingWriter> {
    const w = await super.create(key);
    return { attach: w.attach, write: (c) => (broken.has(this) ? Promise.reject(new RecordingStoreError(this.description, 'disk full')) : w.write(c)), close: () => w.close(), abort: (e) => w.abort(e) };
  }
}

async function store(): Promise<{ dir: string; store: FileRecordingStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'execsession-job-rec-'));
  dirs.push(dir);
  return { dir, store: new BreakableStore(dir) };
}

/** A one-shot session under a policy that requires (or not) its recording, started: the job runs. */
async function running(recording: 'Required' | 'BestEffort', s: FileRecordingStore): Promise<Scenario> {
  const t = new Scenario({ spec: { tty: false, command: ['sh', '-c', 'work'] }, policy: { recording }, recordings: s });
  await t.reconcile();
  t.helperRuns();
  await t.reconcile();
  return t;
}

/** The job ended: exit code 3, "out\n" then, a second later, "err\n". */
function jobEnded(t: Scenario): void {
  t.helpers.jobFiles = { out: Buffer.from('out\n'), err: Buffer.from('err\n'), ticks: Buffer.from('100.0 0 0\n100.5 4 0\n101.5 4 4\n') };
  t.helpers.jobResult = { exitCode: 3, stdout: 'out\n', stderr: 'err\n', truncated: false, beyondKept: { stdout: 0, stderr: 0 } };
}

function castLines(text: string): unknown[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as unknown);
}

describe('reconcile: a one-shot command is recorded', () => {
  it('opens the recording before the job starts, copies the output with its times when it ends, then ends the session', async () => {
    const { dir, store: s } = await store();
    const t = await running('Required', s);
    assert.equal(t.session.status?.phase, 'Running');
    assert.deepEqual(t.session.status?.recording, { mode: 'Required' });
    const file = join(dir, NS, 'dbg', 'u1', 'attach-1.cast');
    const header = JSON.parse((await readFile(file, 'utf8')).split('\n')[0] ?? '') as { execsession: { subject: string; containerUser: unknown; command: string[] } };
    assert.equal(header.execsession.subject, 'alice');
    assert.deepEqual(header.execsession.containerUser, { name: 'alice', uid: 1000, gid: 1000 });
    assert.deepEqual(header.execsession.command, ['sh', '-c', 'work']);
    jobEnded(t);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'CommandFailed');
    assert.deepEqual(castLines(await readFile(file, 'utf8')).slice(1), [[0.5, 'o', 'out\n'], [1.5, 'o', 'err\n'], [1.5, 'x', '3']]);
    const stored = t.audited.filter((e) => e.type === 'recordingStored');
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.recording, `file:${dir} ${NS}/dbg/u1/attach-1.cast`);
    assert.ok(t.helpers.calls.indexOf('readJobBlock execsession-u1 command ticks 0') < t.helpers.calls.indexOf('retire execsession-u1') || !t.helpers.calls.includes('retire execsession-u1'));
  });

  it('notes output past the kept limit in a marker', async () => {
    const { dir, store: s } = await store();
    const t = await running('Required', s);
    jobEnded(t);
    t.helpers.jobResult = { exitCode: 0, stdout: 'out\n', stderr: '', truncated: true, beyondKept: { stdout: 99, stderr: 0 } };
    await t.reconcile();
    const events = castLines(await readFile(join(dir, NS, 'dbg', 'u1', 'attach-1.cast'), 'utf8'));
    assert.deepEqual(events.at(-2), [1.5, 'm', '99 bytes of stdout past the helper\'s --recorded-output-limit were not kept']);
    assert.equal(t.session.status?.phase, 'Succeeded');
  });

  it('Required and the store cannot be written: the job never starts, and the session fails naming the store', async () => {
    const { dir, store: s } = await store();
    // The session's folder is a file: nothing can be written there, even by root.
    await writeFile(join(dir, NS), 'in the way\n');
    const t = await running('Required', s);
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'RecordingUnavailable');
    assert.match(t.session.status?.message ?? '', new RegExp(`must be recorded \\(recording: Required\\) and recording store file:${dir}: cannot write .*the command did not run`));
    assert.ok(!t.helpers.calls.some((c) => c.startsWith('startJob')), t.helpers.calls.join(', '));
    assert.match((await t.metrics.exposition()).body, /execsession_recording_failures_total\{store="file"\} 1/);
  });

  it('BestEffort and the store cannot be written: the job runs and ends as it exits, unrecorded', async () => {
    const { dir, store: s } = await store();
    await writeFile(join(dir, NS), 'in the way\n');
    const t = await running('BestEffort', s);
    assert.equal(t.session.status?.phase, 'Running');
    jobEnded(t);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'CommandFailed');
  });

  it('Required and the store fails while the output is copied: the outcome is recorded as failed, with the result', async () => {
    const { store: s } = await store();
    const t = await running('Required', s);
    jobEnded(t);
    broken.add(s);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'RecordingFailed');
    assert.match(t.session.status?.message ?? '', /^the command exited 3, but the command must be recorded \(recording: Required\) and recording store file:.*: disk full/);
    assert.equal(t.session.status?.result?.stdout, 'out\n');
    assert.equal(t.audited.filter((e) => e.type === 'recordingStored').length, 0);
  });

  it('a helper that cannot be read: that copy is marked incomplete, and the retry makes a whole one', async () => {
    const { dir, store: s } = await store();
    const t = await running('Required', s);
    jobEnded(t);
    t.helpers.jobFiles.ticks = Buffer.from('100 0 0\n100.5 4 0\n101.5 4 9\n');
    await assert.rejects(t.reconcile(), /job's err ends at byte 4, before 9/);
    assert.equal(t.session.status?.phase, 'Running');
    const folder = join(dir, NS, 'dbg', 'u1');
    assert.match(JSON.stringify(castLines(await readFile(join(folder, 'attach-1.cast'), 'utf8')).at(-1)), /"x","incomplete: the job's err ends at byte 4/);
    t.helpers.jobFiles.ticks = Buffer.from('100 0 0\n100.5 4 0\n101.5 4 4\n');
    await t.reconcile();
    assert.equal(t.reason(), 'CommandFailed');
    assert.deepEqual(castLines(await readFile(join(folder, 'attach-2.cast'), 'utf8')).slice(1), [[0.5, 'o', 'out\n'], [1.5, 'o', 'err\n'], [1.5, 'x', '3']]);
  });

  it('survives an operator restart mid-job: the next leader copies the whole output into a complete recording', async () => {
    const { dir, store: s } = await store();
    const t = await running('Required', s);
    t.restartOperator();
    jobEnded(t);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    const folder = join(dir, NS, 'dbg', 'u1');
    assert.deepEqual((await readdir(folder)).sort(), ['attach-1.cast', 'attach-2.cast']);
    // The first leader's copy holds only its header (no exit marker: cut short); the second is whole.
    assert.equal(castLines(await readFile(join(folder, 'attach-1.cast'), 'utf8')).length, 1);
    assert.deepEqual(castLines(await readFile(join(folder, 'attach-2.cast'), 'utf8')).slice(1), [[0.5, 'o', 'out\n'], [1.5, 'o', 'err\n'], [1.5, 'x', '3']]);
    assert.equal(t.audited.filter((e) => e.type === 'recordingStored').length, 1);
  });

  it('ended another way while the job ran (expired): the open recording gets an exit marker that says so', async () => {
    const { dir, store: s } = await store();
    const t = await running('Required', s);
    t.advance(10 * 60_000);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Expired');
    await t.reconcile();
    const events = castLines(await readFile(join(dir, NS, 'dbg', 'u1', 'attach-1.cast'), 'utf8'));
    assert.deepEqual(events.slice(1), [[0, 'x', 'Expired before the output was copied']]);
  });
});

describe('reconcile: a one-shot command without a recording store (--recording-store=none)', () => {
  it('BestEffort: runs, unrecorded, nothing counted as a failure', async () => {
    const t = new Scenario({ spec: { tty: false, command: ['id'] }, policy: { recording: 'BestEffort' }, noRecordingStore: true });
    await t.reconcile();
    t.helperRuns();
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Running');
    jobEnded(t);
    await t.reconcile();
    assert.equal(t.reason(), 'CommandFailed');
    assert.doesNotMatch((await t.metrics.exposition()).body, /execsession_recording_failures_total\{/);
  });

  it('Required: never runs, and says an admin must configure a store', async () => {
    const t = new Scenario({ spec: { tty: false, command: ['id'] }, policy: { recording: 'Required' }, noRecordingStore: true });
    await t.reconcile();
    t.helperRuns();
    await t.reconcile();
    assert.equal(t.reason(), 'RecordingUnavailable');
    assert.match(t.session.status?.message ?? '', /must be recorded \(recording: Required\) but the operator has no recording store \(--recording-store=none\)/);
    assert.ok(!t.helpers.calls.some((c) => c.startsWith('startJob')));
  });
});
