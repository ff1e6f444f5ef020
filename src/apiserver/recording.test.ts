import type { Auditor } from '../audit/auditor.js';
import type { AuditEvent } from '../audit/event.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { sample } from '../../test/support/metrics.js';
import type { ExecSession, SessionRecording } from '../api/types.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { Inspection } from '../exec/inspect.js';
import type { Kube } from '../k8s/kube.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import { FileRecordingStore } from '../recording/file-store.js';
import type { RecordingStore } from '../recording/store.js';
import { signApproval } from '../approval/approvals.js';
import { sealOf } from '../signing/seal.js';
import { Attacher, DEFAULT_ATTACH_CONFIG } from './attach.js';
import { ApiError } from './types.js';
import { FrameSocket } from '../../test/support/frame-socket.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const alice = { username: 'alice', groups: ['developers'], extra: {} };
const KEY = Buffer.alloc(32, 7);
const INSPECTION: Inspection = { pid: 42, ownUserNamespace: false, cgroupVersion: 'v2', capBnd: '00000000a80425fb', noNewPrivs: false, seccomp: 2, uidMap: '0 0 4294967295', environ: ['PATH=/bin'] };

function session(recording: SessionRecording | undefined): ExecSession {
  const ref = { namespace: 'shop', name: 'dbg', uid: 'u-1' };
  const s: ExecSession = {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: 'shop', uid: 'u-1' },
    spec: { podName: 'db', container: 'pg', user: 'alice', reason: 'INC-7', requester: { username: 'alice', groups: ['developers'], stampedAt: '2026-11-22T09:59:00Z', signature: 's' } },
    status: {
      phase: 'Ready', expiresAt: '2099-01-01T00:00:00Z', backend: 'nsenter', container: 'pg', containerID: '0123456789abcdef', helperPod: { namespace: 'execsession-system', name: 'h' },
      user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
      approvals: [
        signApproval(KEY, ref, { decision: 'Approved', who: { username: 'bob', groups: [] }, at: '2026-11-22T09:59:30Z' }),
        { decision: 'Approved', username: 'mallory', at: '2026-11-22T09:59:31Z', signature: 'forged' },
      ],
      ...(recording ? { recording } : {}),
    },
  };
  return { ...s, status: { ...s.status, seal: sealOf(KEY, s, s.status ?? {}) } };
}

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'attach-rec-'));
  dirs.push(d);
  return d;
}

function attacherFor(s: ExecSession, store: RecordingStore | undefined, metrics = new OperatorMetrics(), audit?: Auditor): { attacher: Attacher; upstream: FrameSocket; metrics: OperatorMetrics } {
  const upstream = new FrameSocket();
  const helpers = { inspect: async () => INSPECTION, attachArgv: () => ['attach'] } as unknown as HelperClient;
  const kube = { getSession: async () => structuredClone(s), recordEvent: async () => undefined, openExecStream: async () => upstream } as unknown as Kube;
  return { attacher: new Attacher(kube, helpers, DEFAULT_ATTACH_CONFIG, quiet, { sealKey: () => KEY, metrics, recordings: store, audit }), upstream, metrics };
}

async function relayStarted(upstream: FrameSocket): Promise<void> {
  while (upstream.listenerCount('message') === 0) await new Promise((r) => setImmediate(r));
}

async function until(cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
}

const frame = (ch: number, s: string): Buffer => Buffer.from([ch, ...Buffer.from(s)]);
const exit3 = JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });

describe('attach recordings', () => {
  it('records what the user saw, resizes and the exit code, with a header naming subject, user and verified approvers', async () => {
    const dir = await tempDir();
    const { attacher, upstream } = attacherFor(session({ mode: 'Required' }), new FileRecordingStore(dir));
    const client = new FrameSocket();
    attacher.start(await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('tty=true')), client as unknown as WebSocket);
    client.emit('message', frame(4, '{"Width":100,"Height":30}'), true);
    await relayStarted(upstream);
    upstream.emit('message', frame(1, '$ '));
    client.emit('message', frame(0, 'secret\r'), true);
    client.emit('message', frame(4, '{"Width":120,"Height":40}'), true);
    upstream.emit('message', frame(2, 'no such file\r\n'));
    // A non-zero exit makes the relay ask why; the session is live, so the code stands.
    upstream.emit('message', frame(3, exit3));
    const file = join(dir, 'shop', 'dbg', 'u-1', 'attach-1.cast');
    await until(async () => (await readFile(file, 'utf8').catch(() => '')).includes('"x"'));
    const [header, ...events] = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as unknown[] & Record<string, unknown>);
    assert.equal(header!.version, 2);
    assert.deepEqual([header!.width, header!.height], [100, 30]);
    assert.deepEqual(header!.execsession, {
      namespace: 'shop', name: 'dbg', uid: 'u-1', pod: 'db', container: 'pg', containerUser: { name: 'alice', uid: 1000, gid: 1000 },
      subject: 'alice', approvers: ['bob'], reason: 'INC-7', command: ['/bin/sh'],
    });
    assert.deepEqual(events.map((e) => [e[1], e[2]]), [['o', '$ '], ['r', '120x40'], ['o', 'no such file\r\n'], ['x', '3']]);
    assert.ok(events.every((e) => typeof e[0] === 'number' && e[0] >= 0));
    attacher.close();
  });

  it('audits the attach: attached and detached by the caller with the command and exit code, then the recording stored, all naming one attach', async () => {
    const dir = await tempDir();
    const events: AuditEvent[] = [];
    const audit = { emit: (e: AuditEvent) => { events.push(e); } } as unknown as Auditor;
    const { attacher, upstream } = attacherFor(session({ mode: 'Required' }), new FileRecordingStore(dir), new OperatorMetrics(), audit);
    const client = new FrameSocket();
    attacher.start(await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('tty=false&command=id&command=-un')), client as unknown as WebSocket);
    await relayStarted(upstream);
    upstream.emit('message', frame(3, exit3));
    await until(() => events.some((e) => e.type === 'recordingStored'));
    assert.deepEqual(events.map((e) => [e.type, e.actor.username, e.command, e.exitCode]), [
      ['attached', 'alice', ['id', '-un'], undefined], ['detached', 'alice', ['id', '-un'], 3], ['recordingStored', 'execsession-operator', undefined, undefined],
    ]);
    assert.equal(new Set(events.map((e) => e.attach)).size, 1);
    assert.equal(events[2]?.recording, `file:${dir} shop/dbg/u-1/attach-1.cast`);
    attacher.close();
  });

  it('records input only when status.recording.input says so', async () => {
    const dir = await tempDir();
    const { attacher, upstream } = attacherFor(session({ mode: 'BestEffort', input: true }), new FileRecordingStore(dir));
    const client = new FrameSocket();
    attacher.start(await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('tty=false&command=cat')), client as unknown as WebSocket);
    await relayStarted(upstream);
    client.emit('message', frame(0, 'typed\n'), true);
    upstream.emit('message', frame(3, '{"status":"Success"}'));
    const file = join(dir, 'shop', 'dbg', 'u-1', 'attach-1.cast');
    await until(async () => (await readFile(file, 'utf8').catch(() => '')).includes('"x"'));
    assert.match(await readFile(file, 'utf8'), /\[[\d.]+,"i","typed\\n"\]\n\[[\d.]+,"x","0"\]\n$/);
  });

  it('Required without a store, or with one it cannot write: refused with 503, naming the store', async () => {
    const none = attacherFor(session({ mode: 'Required' }), undefined).attacher;
    await assert.rejects(none.prepare(alice, 'shop', 'dbg', new URLSearchParams()), (e: unknown) => e instanceof ApiError && e.code === 503 && e.reason === 'RecordingUnavailable' && /--recording-store=none/.test(e.message));
    assert.equal(none.count('shop/dbg'), 0, 'the slot goes back');
    const dir = await tempDir();
    await writeFile(join(dir, 'shop'), 'not a directory');
    const { attacher, metrics } = attacherFor(session({ mode: 'Required' }), new FileRecordingStore(dir));
    await assert.rejects(attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams()), (e: unknown) => e instanceof ApiError && e.code === 503 && e.message.includes(`recording store file:${dir}`));
    assert.equal(await sample(metrics, 'execsession_recording_failures_total', { store: 'file' }), 1);
  });

  it('BestEffort with an unwritable store, and Off: the attach goes on unrecorded', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'shop'), 'not a directory');
    const best = attacherFor(session({ mode: 'BestEffort' }), new FileRecordingStore(dir));
    const plan = await best.attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams());
    assert.equal(plan.recording.writer, undefined);
    assert.equal(await sample(best.metrics, 'execsession_recording_failures_total', { store: 'file' }), 1);
    plan.release();
    const okDir = await tempDir();
    const off = attacherFor(session({ mode: 'Off' }), new FileRecordingStore(okDir));
    (await off.attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams())).release();
    assert.deepEqual(await readdir(okDir), []);
  });

  it('an attach that never starts leaves no recording', async () => {
    const dir = await tempDir();
    const { attacher } = attacherFor(session({ mode: 'Required' }), new FileRecordingStore(dir));
    (await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams())).release();
    await until(async () => (await readdir(join(dir, 'shop', 'dbg', 'u-1'))).length === 0);
    assert.deepEqual(await readdir(join(dir, 'shop', 'dbg', 'u-1')), []);
  });

  it('Required: a store that fails mid-attach ends it (fail closed); BestEffort goes on', async () => {
    for (const mode of ['Required', 'BestEffort'] as const) {
      let writes = 0;
      const store: RecordingStore = {
        kind: 'test', description: 'test:flaky',
        create: async () => ({ attach: 1, write: async () => { if (++writes > 1) throw new Error('disk full'); }, close: async () => undefined, abort: async () => undefined }),
        list: async () => [], open: async () => undefined, problem: async () => undefined, prune: async () => 0, appendAudit: async () => undefined,
      };
      const { attacher, upstream, metrics } = attacherFor(session({ mode }), store);
      const client = new FrameSocket();
      attacher.start(await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('tty=false&command=cat')), client as unknown as WebSocket);
      await relayStarted(upstream);
      upstream.emit('message', frame(1, 'output'));
      await until(async () => (await sample(metrics, 'execsession_recording_failures_total', { store: 'test' })) === 1);
      const status = client.sent.find((b) => b[0] === 3);
      if (mode === 'Required') {
        assert.match(String(status?.subarray(1)), /"reason":"RecordingFailed".*disk full/);
        assert.equal(attacher.count('shop/dbg'), 0);
      } else {
        assert.equal(status, undefined);
        assert.equal(attacher.count('shop/dbg'), 1);
        upstream.emit('message', frame(1, 'more'));
        assert.equal(client.sent.filter((b) => b[0] === 1).length, 2);
      }
      attacher.close();
    }
  });
});
