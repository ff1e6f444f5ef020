import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sample } from '../../test/support/metrics.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import type WebSocket from 'ws';
import type { ExecSession } from '../api/types.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { Inspection } from '../exec/inspect.js';
import type { Kube } from '../k8s/kube.js';
import { sealOf } from '../signing/seal.js';
import { Attacher, DEFAULT_ATTACH_CONFIG, type AttachPlan } from './attach.js';
import { ApiError } from './types.js';
import { FrameSocket } from '../../test/support/frame-socket.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const alice = { username: 'alice', groups: ['developers'], extra: {} };
const NOW = new Date('2026-11-22T10:00:00Z');

const KEY = Buffer.alloc(32, 7);

const UNSEALED: ExecSession = {
  apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
  metadata: { name: 'dbg', namespace: 'shop', uid: 'u-1' },
  spec: { podName: 'db', user: 'alice', requester: { username: 'alice', groups: ['developers'], stampedAt: '2026-11-22T09:59:00Z', signature: 's' } },
  status: {
    phase: 'Ready', expiresAt: '2099-01-01T00:00:00Z', backend: 'nsenter', containerID: '0123456789abcdef', helperPod: { namespace: 'execsession-system', name: 'h' },
    user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
  },
};

/** The session as the operator wrote it: its status sealed (finding 5). */
const SESSION: ExecSession = { ...UNSEALED, status: { ...UNSEALED.status, seal: sealOf(KEY, UNSEALED, UNSEALED.status ?? {}) } };

const INSPECTION: Inspection = { pid: 42, ownUserNamespace: false, cgroupVersion: 'v2', capBnd: '00000000a80425fb', noNewPrivs: false, seccomp: 2, uidMap: '0 0 4294967295', environ: ['PATH=/bin'] };

/** An attacher whose helper inspections wait until `finish` is called (or fail with `fail`). */
function setup(limit: number): { attacher: Attacher; finish: () => void; fail: (e: Error) => void; inspections: () => number } {
  const waiting: { resolve: (i: Inspection) => void; reject: (e: Error) => void }[] = [];
  let inspections = 0;
  const helpers = {
    inspect: () => {
      inspections++;
      return new Promise<Inspection>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    attachArgv: () => ['attach'],
  } as unknown as HelperClient;
  const kube = { getSession: async () => structuredClone(SESSION), recordEvent: async () => undefined } as unknown as Kube;
  const attacher = new Attacher(kube, helpers, { ...DEFAULT_ATTACH_CONFIG, limitPerSession: limit }, quiet, { sealKey: () => KEY, now: () => NOW });
  return {
    attacher,
    finish: () => waiting.splice(0).forEach((w) => w.resolve(INSPECTION)),
    fail: (e) => waiting.splice(0).forEach((w) => w.reject(e)),
    inspections: () => inspections,
  };
}

/** Settles every prepare: the plans, and the codes of the refusals. */
async function settle(ps: Promise<AttachPlan>[]): Promise<{ plans: AttachPlan[]; codes: number[] }> {
  const results = await Promise.allSettled(ps);
  return {
    plans: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    codes: results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof ApiError ? r.reason.code : -1] : [])),
  };
}

const q = (): URLSearchParams => new URLSearchParams('command=id');

describe('the attach limit (finding 7)', () => {
  it('holds for attaches prepared side by side: the slot is taken before the inspection', async () => {
    const { attacher, finish, inspections } = setup(4);
    const settled = settle(Array.from({ length: 20 }, () => attacher.prepare(alice, 'shop', 'dbg', q())));
    // Let every session read finish; the inspections are still running.
    await new Promise((r) => setImmediate(r));
    assert.equal(attacher.count('shop/dbg'), 4);
    finish();
    const { plans, codes } = await settled;
    assert.equal(plans.length, 4);
    assert.deepEqual(codes, Array(16).fill(429));
    assert.equal(inspections(), 4, 'refused attaches never reach the helper');
  });

  it('a started attach keeps its slot; every other end gives it back', async () => {
    const { attacher, finish, fail } = setup(2);
    const first = attacher.prepare(alice, 'shop', 'dbg', q());
    await new Promise((r) => setImmediate(r));
    finish();
    const plan = await first;
    attacher.start(plan, { on: () => undefined, send: () => undefined, readyState: 3, OPEN: 1 } as unknown as WebSocket);
    assert.equal(attacher.count('shop/dbg'), 1, 'live');
    plan.release();
    assert.equal(attacher.count('shop/dbg'), 1, 'releasing again changes nothing');

    const failing = attacher.prepare(alice, 'shop', 'dbg', q());
    await new Promise((r) => setImmediate(r));
    assert.equal(attacher.count('shop/dbg'), 2);
    fail(new Error('helper output is malformed'));
    await assert.rejects(failing, (e: unknown) => e instanceof ApiError && e.code === 500);
    assert.equal(attacher.count('shop/dbg'), 1, 'a failed inspection gives its slot back');

    await assert.rejects(attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('tty=maybe')), (e: unknown) => e instanceof ApiError && e.code === 400);
    assert.equal(attacher.count('shop/dbg'), 1, 'a bad request gives its slot back');

    const unused = attacher.prepare(alice, 'shop', 'dbg', q());
    await new Promise((r) => setImmediate(r));
    finish();
    (await unused).release();
    assert.equal(attacher.count('shop/dbg'), 1, 'a plan whose socket closed before it started gives its slot back');
    attacher.close();
  });

  it('refuses the caller who is not the subject without taking a slot', async () => {
    const { attacher } = setup(1);
    await assert.rejects(attacher.prepare({ username: 'bob', groups: [], extra: {} }, 'shop', 'dbg', q()), (e: unknown) => e instanceof ApiError && e.code === 403);
    assert.equal(attacher.count('shop/dbg'), 0);
  });
});

describe('attach metrics', () => {
  it('counts a started attach and the bytes it relays each way (payload, without the channel byte)', async () => {
    const metrics = new OperatorMetrics();
    const upstream = new FrameSocket();
    const helpers = { inspect: async () => INSPECTION, attachArgv: () => ['attach'] } as unknown as HelperClient;
    const kube = { getSession: async () => structuredClone(SESSION), recordEvent: async () => undefined, openExecStream: async () => upstream } as unknown as Kube;
    const attacher = new Attacher(kube, helpers, DEFAULT_ATTACH_CONFIG, quiet, { sealKey: () => KEY, now: () => NOW, metrics });
    const client = new FrameSocket();
    attacher.start(await attacher.prepare(alice, 'shop', 'dbg', new URLSearchParams('command=cat&tty=false')), client as unknown as WebSocket);
    // The relay starts once the helper's exec stream is open.
    while (upstream.listenerCount('message') === 0) await new Promise((r) => setImmediate(r));
    client.emit('message', Buffer.from([0, ...Buffer.from('hello\n')]), true);
    upstream.emit('message', Buffer.from([1, ...Buffer.from('hello\n')]));
    upstream.emit('message', Buffer.from([2, ...Buffer.from('warn')]));
    assert.deepEqual(upstream.sent.map((b) => b.subarray(1).toString()), ['hello\n']);
    assert.equal(await sample(metrics, 'execsession_attaches_total', { result: 'started' }), 1);
    assert.equal(await sample(metrics, 'execsession_attach_bytes_total', { direction: 'in' }), 6);
    assert.equal(await sample(metrics, 'execsession_attach_bytes_total', { direction: 'out' }), 10);
    attacher.close();
  });
});
