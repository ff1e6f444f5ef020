import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileRecordingStore } from '../recording/file-store.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import { sample } from '../../test/support/metrics.js';
import type { Logger } from '../log/logger.js';
import { Auditor } from './auditor.js';
import { AUDIT_API_VERSION, auditId, parseAuditLines, type AuditEvent } from './event.js';
import { FileAuditSink, RecordingAuditSink, auditFileName, type AuditSink } from './sinks.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-'));
  dirs.push(dir);
  return dir;
}

function event(type: AuditEvent['type'], time: string, uid = 'u-1'): AuditEvent {
  return {
    apiVersion: AUDIT_API_VERSION, kind: 'Event', id: auditId(uid, type, time), type, time, session: { namespace: 'shop', name: 'dbg', uid },
    subject: 'alice', actor: { kind: 'operator', username: 'execsession-operator' }, containerUser: { spec: 'alice' }, pod: 'web',
  };
}

/** A Logger that keeps what it is given. */
function memoryLog(): Logger & { lines: { level: string; obj: Record<string, unknown>; msg?: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, obj: obj as Record<string, unknown>, msg }); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('FileAuditSink', () => {
  it('appends one JSON line per event to a file per UTC day, creating the directory', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    const sink = new FileAuditSink(dir);
    const [a, b, c] = [event('requested', '2026-12-06T23:59:59Z'), event('started', '2026-12-07T00:00:01Z'), event('ended', '2026-12-07T00:10:00Z')];
    for (const e of [a, b, c]) await sink.write(e);
    assert.deepEqual((await readdir(dir)).sort(), ['audit-2026-12-06.jsonl', 'audit-2026-12-07.jsonl']);
    assert.deepEqual(parseAuditLines(await readFile(join(dir, 'audit-2026-12-07.jsonl'), 'utf8')), [b, c]);
    assert.equal(auditFileName(a), 'audit-2026-12-06.jsonl');
  });

  it('rejects when the directory cannot be made (a file is in its place)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'x'), 'not a directory');
    await assert.rejects(new FileAuditSink(join(dir, 'x')).write(event('requested', '2026-12-06T10:00:00Z')), /EEXIST|ENOTDIR/);
  });
});

describe('RecordingAuditSink over the file recording store', () => {
  it('keeps a session\'s events in NAMESPACE/NAME/UID/audit.jsonl beside its recordings, and none for a refusal at admission', async () => {
    const dir = await tempDir();
    const store = new FileRecordingStore(dir);
    const sink = new RecordingAuditSink(store);
    const rec = await store.create({ namespace: 'shop', name: 'dbg', uid: 'u-1' });
    await rec.close();
    const events = [event('requested', '2026-12-06T10:00:00Z'), event('started', '2026-12-06T10:00:02Z')];
    for (const e of events) await sink.write(e);
    await sink.write({ ...event('denied', '2026-12-06T10:00:00Z', ''), requestUID: 'r-1' });
    assert.deepEqual((await readdir(join(dir, 'shop', 'dbg', 'u-1'))).sort(), ['attach-1.cast', 'audit.jsonl']);
    assert.deepEqual(parseAuditLines(await readFile(join(dir, 'shop', 'dbg', 'u-1', 'audit.jsonl'), 'utf8')), events);
    assert.deepEqual((await store.list({ namespace: 'shop', name: 'dbg', uid: 'u-1' })).map((r) => r.attach), [1], 'the listing still shows recordings only');
    assert.deepEqual((await readdir(join(dir, 'shop', 'dbg'))), ['u-1']);
  });

  it('refuses a session key that could climb out of the store', async () => {
    const sink = new RecordingAuditSink(new FileRecordingStore(await tempDir()));
    await assert.rejects(sink.write({ ...event('requested', '2026-12-06T10:00:00Z'), session: { namespace: '..', name: 'x', uid: 'u' } }), /not a namespace\/name/);
  });
});

describe('Auditor', () => {
  it('logs each event as one line, msg "audit", the event under "audit", and writes the sink in emission order', async () => {
    const log = memoryLog();
    const written: string[] = [];
    const slowFirst: AuditSink = { kind: 'test', description: 'test:slow', write: async (e) => { await new Promise((r) => setTimeout(r, e.type === 'requested' ? 30 : 0)); written.push(e.type); } };
    const a = new Auditor({ log, toLog: true, sink: slowFirst });
    a.emit(event('requested', '2026-12-06T10:00:00Z'));
    a.emit(event('started', '2026-12-06T10:00:01Z'));
    await a.flush();
    assert.deepEqual(written, ['requested', 'started']);
    assert.deepEqual(log.lines.map((l) => [l.level, l.msg, (l.obj.audit as AuditEvent).type]), [['info', 'audit', 'requested'], ['info', 'audit', 'started']]);
  });

  it('a sink that fails neither throws nor stops later events: counted by sink and logged', async () => {
    const log = memoryLog();
    const metrics = new OperatorMetrics();
    let n = 0;
    const flaky: AuditSink = { kind: 'file', description: 'file:/full', write: async () => { if (++n === 1) throw new Error('ENOSPC'); } };
    const a = new Auditor({ log, toLog: true, sink: flaky, metrics });
    assert.doesNotThrow(() => a.emit(event('requested', '2026-12-06T10:00:00Z')));
    a.emit(event('started', '2026-12-06T10:00:01Z'));
    await a.flush();
    assert.equal(n, 2);
    assert.equal(await sample(metrics, 'execsession_audit_failures_total', { sink: 'file' }), 1);
    const warn = log.lines.find((l) => l.level === 'warn');
    assert.deepEqual([warn?.msg, warn?.obj.type, warn?.obj.err, warn?.obj.sink], ['audit event not written', 'requested', 'ENOSPC', 'file:/full']);
  });

  it('a log that throws is counted as the log sink failing; none writes nothing', async () => {
    const metrics = new OperatorMetrics();
    const broken = { ...memoryLog(), info: () => { throw new Error('EPIPE'); } };
    new Auditor({ log: broken, toLog: true, metrics }).emit(event('requested', '2026-12-06T10:00:00Z'));
    assert.equal(await sample(metrics, 'execsession_audit_failures_total', { sink: 'log' }), 1);
    const quiet = memoryLog();
    Auditor.none(quiet).emit(event('requested', '2026-12-06T10:00:00Z'));
    assert.equal(quiet.lines.length, 0);
  });
});
