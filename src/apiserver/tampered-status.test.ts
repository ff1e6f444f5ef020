// Attach and extend act only on a status the operator sealed: a uid 0 written
// into status.user, or an expiry moved, is refused before anything runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCluster } from '../../test/support/fake-kube.js';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { PolicyEntry } from '../policy/types.js';
import { sealOf, sealProblem } from '../signing/seal.js';
import { Attacher, DEFAULT_ATTACH_CONFIG } from './attach.js';
import { Authorizer } from '../authz/authorizer.js';
import { Extender } from './lifetime.js';
import { ApiError, type ActionContext } from './types.js';

const KEY = Buffer.alloc(32, 3);
/** extend, built as the aggregated API builds it: the real Authorizer over the fake cluster, the given helpers. */
const extend = (ctx: ActionContext, helpers: Pick<HelperClient, 'setDeadline'>): Promise<ExecSession> =>
  new Extender({ authorizer: new Authorizer(ctx.kube), helpers }).extend(ctx);

const NS = 'shop';
const NOW = new Date('2026-11-22T10:05:00Z');
const alice = { username: 'alice', groups: ['developers'], extra: {} };
const META = { name: 'dbg', namespace: NS, uid: 'u1', creationTimestamp: '2026-11-22T10:00:00Z' as never };

const READY: ExecSessionStatus = {
  phase: 'Ready', node: 'node-1', container: 'app', containerID: 'abc123abc123', runtime: 'containerd', backend: 'runtime',
  user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
  helperPod: { namespace: 'execsession-system', name: 'execsession-u1' },
  startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:15:00Z',
};

/** A Ready session as the operator sealed it, then `change` written over its status by someone else. */
function cluster(change: Partial<ExecSessionStatus> = {}): FakeCluster {
  const c = new FakeCluster();
  c.addPod(NS, 'web');
  const session: ExecSession = {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: META,
    spec: { podName: 'web', user: 'alice', requester: { username: 'alice', groups: ['developers'], stampedAt: '2026-11-22T10:00:00Z', signature: 'x' } },
    status: { ...READY, seal: sealOf(KEY, { metadata: META }, READY), ...change },
  };
  c.addSession(session);
  return c;
}

/** Helpers must never be reached for a refused request. */
const NO_HELPERS = new Proxy({}, { get: () => () => assert.fail('the helper was used') }) as HelperClient;

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  return assert.fail('not refused');
}

describe('attach on a status someone else wrote', () => {
  const attacher = (c: FakeCluster): Attacher => new Attacher(c.kube(), NO_HELPERS, DEFAULT_ATTACH_CONFIG, { debug() {}, info() {}, warn() {}, error() {} }, { sealKey: () => KEY, now: () => NOW });

  it('refuses uid 0 in status.user with 403 StatusTampered, before the helper is used', async () => {
    const e = await refusal(attacher(cluster({ user: { ...READY.user!, uid: 0, root: true } })).prepare(alice, NS, 'dbg', new URLSearchParams('command=id')));
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'StatusTampered');
    assert.match(e.message, /^execsession shop\/dbg cannot be attached to: its status was written by someone other than the execsession operator: status\.seal does not match/);
  });

  it('refuses a status without its seal, and another helper pod', async () => {
    const unsealed = { ...READY };
    const c = new FakeCluster();
    c.addSession({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: META, spec: { podName: 'web', user: 'alice', requester: { username: 'alice', groups: [] } }, status: unsealed });
    assert.match((await refusal(attacher(c).prepare(alice, NS, 'dbg', new URLSearchParams()))).message, /status\.seal is missing/);
    const moved = await refusal(attacher(cluster({ helperPod: { namespace: 'kube-system', name: 'kube-apiserver' } })).prepare(alice, NS, 'dbg', new URLSearchParams()));
    assert.equal(moved.reason, 'StatusTampered');
  });
});

describe('extend on a status someone else wrote', () => {
  const ctx = (c: FakeCluster): ActionContext => ({ kube: c.kube(), caller: alice, namespace: NS, name: 'dbg', body: { by: '5m' }, stampKey: KEY, now: NOW });

  it('seals the expiry it moves, so that the controller and attach go on trusting the status', async () => {
    const c = cluster();
    const policy: PolicyEntry = { kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } } } };
    c.policies = [policy];
    c.pods.set('execsession-system/execsession-u1', { metadata: { name: 'execsession-u1', namespace: 'execsession-system' }, spec: { containers: [], activeDeadlineSeconds: 3600 }, status: { startTime: '2026-11-22T10:00:00Z' as never } });
    let deadline: Date | undefined;
    const helpers = { setDeadline: async (_h: unknown, at: Date) => void (deadline = at) } as unknown as HelperClient;
    const updated = await extend(ctx(c), helpers);
    assert.equal(updated.status?.expiresAt, '2026-11-22T10:20:00Z');
    assert.equal(deadline?.toISOString(), '2026-11-22T10:20:00.000Z');
    assert.equal(sealProblem(KEY, updated), undefined);
  });

  it('refuses a moved startedAt or user with 409 StatusTampered, before anything else', async () => {
    for (const change of [{ startedAt: '2026-11-22T10:04:00Z' }, { user: { uid: 0, gid: 0, groups: [0], home: '/root', root: true, rootGroup: true } }]) {
      const e = await refusal(extend(ctx(cluster(change)), NO_HELPERS));
      assert.equal(e.code, 409, JSON.stringify(change));
      assert.equal(e.reason, 'StatusTampered');
      assert.match(e.message, /^cannot extend execsession shop\/dbg: its status was written by someone other than the execsession operator/);
    }
  });
});
