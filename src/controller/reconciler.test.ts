// The controller acts only on a status it sealed: a rewritten status.user or
// expiry ends the session StatusTampered, a helper reference in status is never
// followed, and a status reset to Pending does not buy a later expiry.
import { QUIET, controllerConfig } from '../../test/support/controller.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeCluster } from '../../test/support/fake-kube.js';
import { inspectOutput } from '../../test/support/fake-helpers.js';
import { makeStamp } from '../signing/stamp.js';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import { Authorizer } from '../authz/authorizer.js';
import { CONTAINERD_PATHS, HelperClient } from '../exec/helper-client.js';
import type { PolicyEntry } from '../policy/types.js';
import { sealOf, sealProblem } from '../signing/seal.js';
import { FINALIZER, Reconciler } from './reconciler.js';

const KEY = Buffer.alloc(32, 5);
const NS = 'shop';
const NOW = new Date('2026-11-22T10:05:00Z');
const META = { name: 'dbg', namespace: NS, uid: 'u1', generation: 1, finalizers: [FINALIZER], creationTimestamp: '2026-11-22T10:00:00Z' as never };
const HELPER = 'execsession-system/execsession-u1';
const CFG = controllerConfig(KEY);

const READY: ExecSessionStatus = {
  phase: 'Ready', node: 'node-1', container: 'app', containerID: 'abc123abc123', runtime: 'containerd', backend: 'runtime',
  user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
  helperPod: { namespace: 'execsession-system', name: 'execsession-u1' },
  startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:15:00Z',
};

function running(namespace: string, name: string, extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name, namespace, creationTimestamp: '2026-11-22T10:00:00Z' as never },
    spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://abc123abc123', state: { running: {} } }] },
    ...extra,
  };
}

/** A cluster with the target pod, the session's helper, and the session with `status` (sealed as READY, then `change` written over it). */
function cluster(change: Partial<ExecSessionStatus> = {}, status: ExecSessionStatus = READY): FakeCluster {
  const c = new FakeCluster();
  c.pods.set(`${NS}/web`, running(NS, 'web'));
  // A helper carries its session's uid label (helper-pod.ts): that, not its name, makes it the session's.
  const helper = running('execsession-system', 'execsession-u1');
  helper.metadata!.labels = { 'execsession.dev/session-uid': 'u1' };
  c.pods.set(HELPER, helper);
  const spec = { podName: 'web', user: 'alice', ttl: '15m', tty: true };
  const requester = makeStamp(KEY, { namespace: NS, name: 'dbg', spec }, { username: 'alice', groups: ['developers'] }, new Date('2026-11-22T10:00:00Z'));
  const session: ExecSession = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: META, spec: { ...spec, requester }, status: { ...status, seal: sealOf(KEY, { metadata: META }, status), ...change } };
  c.addSession(session);
  return c;
}

const reconciler = (c: FakeCluster): Reconciler => {
  const kube = c.kube();
  return new Reconciler({ kube, helpers: new HelperClient(kube, CONTAINERD_PATHS), authorizer: new Authorizer(kube), config: CFG, log: QUIET, clock: () => NOW });
};
const stored = (c: FakeCluster): ExecSession => c.sessions.get(`${NS}/dbg`)!;
const readyReason = (s: ExecSession): string | undefined => s.status?.conditions?.find((x) => x.type === 'Ready')?.reason;

describe('Reconciler and the status seal', () => {
  it('leaves a Ready session with an intact seal as it is', async () => {
    const c = cluster();
    const out = await reconciler(c).reconcile(`${NS}/dbg`);
    assert.equal(stored(c).status?.phase, 'Ready');
    assert.ok((out.requeueAfterMs ?? 0) > 0);
    assert.deepEqual(c.events, []);
  });

  it('ends a session whose status.user someone set to uid 0: Failed, StatusTampered, a Warning Event', async () => {
    const c = cluster({ user: { ...READY.user!, uid: 0, gid: 0, name: 'root', root: true } });
    const r = reconciler(c);
    await r.reconcile(`${NS}/dbg`);
    // Ended first; its helper goes in the next reconcile.
    await r.reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.equal(s.status?.phase, 'Failed');
    assert.equal(readyReason(s), 'StatusTampered');
    assert.match(s.status?.message ?? '', /^its status was written by someone other than the execsession operator: status\.seal does not match .*; the session was ended rather than run on it/);
    assert.deepEqual(c.events.map((e) => [e.type, e.reason]), [['Warning', 'StatusTampered']]);
    assert.equal(c.pods.has(HELPER), false, 'its own helper is deleted');
  });

  it('does not take a later expiry written into status: the session ends instead of living on', async () => {
    const c = cluster({ expiresAt: '2026-11-23T10:00:00Z' });
    await reconciler(c).reconcile(`${NS}/dbg`);
    assert.equal(readyReason(stored(c)), 'StatusTampered');
  });

  it('never follows status.helperPod: a pod named there is not touched when the session ends', async () => {
    // The helper is gone; status points at someone else's pod. Touching it would exec into it (not faked: it would throw).
    const c = cluster({ helperPod: { namespace: 'kube-system', name: 'kube-apiserver-node-1' } });
    c.pods.delete(HELPER);
    c.pods.set('kube-system/kube-apiserver-node-1', running('kube-system', 'kube-apiserver-node-1'));
    await reconciler(c).reconcile(`${NS}/dbg`);
    assert.equal(readyReason(stored(c)), 'StatusTampered');
    assert.ok(c.pods.has('kube-system/kube-apiserver-node-1'));
  });

  it('takes a status reset to Pending as a restart: expiry counts from the existing helper, and the new status is sealed', async () => {
    const policy: PolicyEntry = { kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } } } };
    const c = cluster({}, { phase: 'Pending' });
    c.policies = [policy];
    c.nodes.set('node-1', { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    await reconciler(c).reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.equal(s.status?.phase, 'Starting');
    assert.equal(s.status?.startedAt, '2026-11-22T10:00:00Z', 'the helper was created at 10:00, not now (10:05)');
    assert.equal(s.status?.expiresAt, '2026-11-22T10:15:00Z');
    assert.equal(sealProblem(KEY, s), undefined);
  });
});

describe('Reconciler and the operator\'s own namespace', () => {
  it('denies a signed, allowed session into a helper pod in the operator\'s namespace, before any helper is made', async () => {
    const c = new FakeCluster();
    c.pods.set(HELPER, running('execsession-system', 'execsession-u1'));
    c.policies = [{ kind: 'ClusterExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: 'everything' }, spec: { subjects: [{ kind: 'Group', name: 'system:masters' }], users: { allowedNames: ['*'], allowRoot: true, allowRootGroup: true } } } }];
    const spec = { podName: 'execsession-u1', user: 'root', ttl: '15m', tty: true };
    const meta = { ...META, namespace: 'execsession-system', name: 'into-helper', uid: 'u2' };
    const requester = makeStamp(KEY, { namespace: 'execsession-system', name: 'into-helper', spec }, { username: 'admin', groups: ['system:masters'] }, NOW);
    c.addSession({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: meta, spec: { ...spec, requester } });
    await reconciler(c).reconcile('execsession-system/into-helper');
    const s = c.sessions.get('execsession-system/into-helper')!;
    assert.equal(s.status?.phase, 'Denied');
    assert.equal(readyReason(s), 'OperatorNamespace');
    assert.match(s.status?.message ?? '', /^namespace execsession-system is the execsession operator's own/);
    assert.deepEqual([...c.pods.keys()], [HELPER], 'no helper pod was created');
    assert.deepEqual(c.events.map((e) => [e.type, e.reason]), [['Warning', 'OperatorNamespace']]);
  });
});

describe('Reconciler and processes too large to exec', () => {
  /** A session whose helper runs, for a target with `env`; records the helper sub-commands run. */
  function starting(env: string[], spec: { tty: boolean; command?: string[] }): { c: FakeCluster; ran: string[] } {
    const status: ExecSessionStatus = { phase: 'Starting', node: 'node-1', container: 'app', containerID: 'abc123abc123', runtime: 'containerd', helperPod: READY.helperPod, startedAt: '2026-11-22T10:04:00Z', expiresAt: '2026-11-22T10:19:00Z' };
    const c = cluster({}, status);
    const s = stored(c);
    s.spec = { ...s.spec, ...spec };
    s.spec.requester = makeStamp(KEY, { namespace: NS, name: 'dbg', spec: s.spec }, { username: 'alice', groups: ['developers'] }, new Date('2026-11-22T10:00:00Z'));
    c.policies = [{ kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } } } }];
    const ran: string[] = [];
    c.onExec = (_ns, _pod, argv) => {
      ran.push(argv[4] ?? '');
      if (argv[4] === 'inspect') return { exitCode: 0, stdout: inspectOutput(env), stderr: Buffer.alloc(0) };
      if (argv[4] === 'start') return { exitCode: 126, stdout: Buffer.alloc(0), stderr: Buffer.from('OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": argument list too long: unknown') };
      return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    };
    return { c, ran };
  }

  it('fails a one-shot command into a target with a 140 kB environment, saying why, instead of retrying', async () => {
    const { c, ran } = starting(['PATH=/bin', `BIG=${'x'.repeat(140_000)}`], { tty: false, command: ['id'] });
    const r = reconciler(c);
    await r.reconcile(`${NS}/dbg`);
    await r.reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.equal(s.status?.phase, 'Failed');
    assert.equal(readyReason(s), 'ArgumentListTooLong');
    assert.match(s.status?.message ?? '', /^the session's process cannot start in container "app" of pod shop\/web: one argument of the exec that starts it would take \d+ bytes, above the kernel's limit of 131072 for one argument \("argument list too long", E2BIG\): the container's environment takes 14\d{4} bytes and the command 3\./);
    assert.deepEqual(ran, ['inspect', 'cleanup'], 'the job was never started; the session was cleaned up');
  });

  it('fails an interactive session into such a target before it is offered to attach', async () => {
    const { c } = starting([`BIG=${'x'.repeat(140_000)}`], { tty: true });
    await reconciler(c).reconcile(`${NS}/dbg`);
    assert.equal(readyReason(stored(c)), 'ArgumentListTooLong');
  });

  it('fails the session when the helper itself reports E2BIG, rather than retrying with backoff', async () => {
    const { c, ran } = starting(['PATH=/bin', `MID=${'x'.repeat(100_000)}`], { tty: false, command: ['id'] });
    const r = reconciler(c);
    await r.reconcile(`${NS}/dbg`);
    await r.reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.deepEqual(ran, ['inspect', 'start', 'cleanup']);
    assert.equal(readyReason(s), 'ArgumentListTooLong');
    assert.match(s.status?.message ?? '', /^the helper could not start the session's process in pod shop\/web: helper start failed \(exit 126\): .*argument list too long.*; shorten spec\.command/);
  });
});

describe('Reconciler and spec.notAfter (ADR 25)', () => {
  const policy: PolicyEntry = { kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } } } };

  /** A signed, allowed, not yet started session with `notAfter`, its target running and no helper yet. */
  function ending(notAfter: string): FakeCluster {
    const c = new FakeCluster();
    c.pods.set(`${NS}/web`, running(NS, 'web'));
    c.nodes.set('node-1', { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    c.policies = [policy];
    const spec = { podName: 'web', user: 'alice', ttl: '15m', tty: true, notAfter };
    const meta = { ...META, creationTimestamp: '2026-11-22T10:04:59Z' as never };
    const requester = makeStamp(KEY, { namespace: NS, name: 'dbg', spec }, { username: 'alice', groups: ['developers'] }, new Date('2026-11-22T10:04:59Z'));
    c.addSession({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: meta, spec: { ...spec, requester }, status: { phase: 'Pending' } });
    return c;
  }

  it('starts a session whose ttl reaches past notAfter with expiresAt and extendableUntil at notAfter, and the helper\'s deadline too', async () => {
    const c = ending('2026-11-22T10:10:00Z');
    await reconciler(c).reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.equal(s.status?.phase, 'Starting');
    assert.equal(s.status?.startedAt, '2026-11-22T10:05:00Z');
    assert.equal(s.status?.expiresAt, '2026-11-22T10:10:00Z', 'ttl 15m would say 10:20');
    assert.equal(s.status?.extendableUntil, '2026-11-22T10:10:00Z', 'ttl.max 1h would say 11:05');
    assert.equal(sealProblem(KEY, s), undefined);
    const helper = c.pods.get(HELPER);
    assert.ok(helper, 'the helper pod was created');
    assert.ok((helper.spec?.activeDeadlineSeconds ?? Infinity) <= 5 * 60 + 60, `the helper's kubelet deadline (${helper.spec?.activeDeadlineSeconds}s) follows notAfter, not ttl.max`);
  });

  it('ends a session that has not started by its notAfter Expired, reason NotAfterPassed, without a helper', async () => {
    const c = ending('2026-11-22T10:04:30Z');
    await reconciler(c).reconcile(`${NS}/dbg`);
    const s = stored(c);
    assert.equal(s.status?.phase, 'Expired');
    assert.match(s.status?.message ?? '', /^the session did not start before its spec\.notAfter \(2026-11-22T10:04:30Z\)/);
    assert.equal(s.status?.conditions?.find((x) => x.type === 'Expired')?.reason, 'NotAfterPassed');
    assert.equal(c.pods.has(HELPER), false, 'no helper pod was created');
  });

  it('looks at a waiting session again by its notAfter at the latest', async () => {
    const c = ending('2026-11-22T10:05:01Z');
    c.pods.set(`${NS}/web`, { ...running(NS, 'web'), status: { phase: 'Pending' } });
    const out = await reconciler(c).reconcile(`${NS}/dbg`);
    assert.equal(stored(c).status?.phase, 'Pending');
    assert.equal(out.requeueAfterMs, 1000);
  });
});
