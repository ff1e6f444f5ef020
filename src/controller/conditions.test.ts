import { QUIET, controllerConfig } from '../../test/support/controller.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeCluster } from '../../test/support/fake-kube.js';
import { Reason, type ReasonName } from '../api/conditions.js';
import { PHASES, isTerminalPhase, type Condition, type ExecSessionStatus, type Phase } from '../api/types.js';
import { Authorizer } from '../authz/authorizer.js';
import { CONTAINERD_PATHS, HelperClient } from '../exec/helper-client.js';
import { sealOf } from '../signing/seal.js';
import { makeStamp } from '../signing/stamp.js';
import { sessionConditions, type SessionFacts } from './conditions.js';
import { FINALIZER, Reconciler } from './reconciler.js';

const T0 = new Date('2026-11-22T10:00:00Z');
const T1 = new Date('2026-11-22T10:01:00Z');

/** Each condition as `status reason`, by type. */
function summary(conditions: readonly Condition[]): Record<string, string> {
  return Object.fromEntries(conditions.map((c) => [c.type, `${c.status} ${c.reason}`]));
}

const facts = (phase: Phase, reason: ReasonName, more: Partial<SessionFacts> = {}): SessionFacts => ({ phase, reason, message: `${phase}: ${reason}`, ...more });
const allowed = { kind: 'allowed', message: 'allowed by ExecPolicy shop/dev' } as const;

describe('sessionConditions, step by step', () => {
  it('writes all four on the first write, in a stable order: waiting for the target once allowed', () => {
    const c = sessionConditions(undefined, facts('Pending', Reason.PodNotRunning, { authorization: allowed }), 1, T0);
    assert.deepEqual(c.map((x) => x.type), ['Authorized', 'HelperReady', 'Ready', 'Expired']);
    assert.deepEqual(summary(c), { Authorized: 'True Allowed', HelperReady: 'False HelperNotStarted', Ready: 'False PodNotRunning', Expired: 'False TtlNotElapsed' });
    assert.equal(c[0]?.message, 'allowed by ExecPolicy shop/dev');
    assert.ok(c.every((x) => x.observedGeneration === 1 && x.lastTransitionTime === '2026-11-22T10:00:00Z'));
  });

  it('holds a session for approvals: Authorized False WaitingForApproval, then True Approved', () => {
    const waiting = sessionConditions(undefined, facts('WaitingForApproval', Reason.WaitingForApproval, { authorization: { kind: 'waiting', message: 'waiting for 1 more approval(s)' } }), 1, T0);
    assert.deepEqual(summary(waiting), { Authorized: 'False WaitingForApproval', HelperReady: 'False HelperNotStarted', Ready: 'False WaitingForApproval', Expired: 'False TtlNotElapsed' });
    const approved = sessionConditions(waiting, facts('Approved', Reason.Approved, { from: 'WaitingForApproval', authorization: { kind: 'approved', message: 'approved by "carol"' } }), 1, T1);
    assert.equal(summary(approved).Authorized, 'True Approved');
    assert.equal(approved.find((x) => x.type === 'Authorized')?.lastTransitionTime, '2026-11-22T10:01:00Z');
  });

  it('carries Authorized over when the step decided nothing about it, with a fresh observedGeneration and the old transition time', () => {
    const approved = sessionConditions(undefined, facts('Approved', Reason.Approved, { authorization: { kind: 'approved', message: 'approved by "carol"' } }), 1, T0);
    const starting = sessionConditions(approved, facts('Starting', Reason.HelperStarting, { from: 'Approved' }), 2, T1);
    const a = starting.find((x) => x.type === 'Authorized');
    assert.deepEqual([a?.status, a?.reason, a?.message, a?.observedGeneration, a?.lastTransitionTime], ['True', 'Approved', 'approved by "carol"', 2, '2026-11-22T10:00:00Z']);
    assert.deepEqual(summary(starting), { Authorized: 'True Approved', HelperReady: 'False HelperStarting', Ready: 'False HelperStarting', Expired: 'False TtlNotElapsed' });
  });

  it('a one-shot command runs: the helper is ready, the session is not attachable', () => {
    const c = sessionConditions(undefined, facts('Running', Reason.CommandRunning, { from: 'Starting', authorization: allowed }), 1, T0);
    assert.deepEqual(summary(c), { Authorized: 'True Allowed', HelperReady: 'True HelperRunning', Ready: 'False CommandRunning', Expired: 'False TtlNotElapsed' });
  });

  it('a live session: Ready and HelperReady True', () => {
    const c = sessionConditions(undefined, facts('Ready', Reason.SessionReady, { from: 'Starting', authorization: allowed }), 1, T0);
    assert.deepEqual(summary(c), { Authorized: 'True Allowed', HelperReady: 'True HelperRunning', Ready: 'True SessionReady', Expired: 'False TtlNotElapsed' });
  });

  it('HelperReady goes False once the helper is gone, and stays True for nothing that ended', () => {
    const live = sessionConditions(undefined, facts('Ready', Reason.SessionReady, { authorization: allowed }), 1, T0);
    const gone = sessionConditions(live, facts('Failed', Reason.HelperGone, { from: 'Ready' }), 1, T1);
    assert.deepEqual(summary(gone), { Authorized: 'True Allowed', HelperReady: 'False HelperGone', Ready: 'False HelperGone', Expired: 'False TtlNotElapsed' });
    const expired = sessionConditions(live, facts('Expired', Reason.TtlElapsed, { from: 'Ready' }), 1, T1);
    assert.deepEqual(summary(expired), { Authorized: 'True Allowed', HelperReady: 'False SessionEnded', Ready: 'False TtlElapsed', Expired: 'True TtlElapsed' });
  });

  it('Authorized False on every refusal: a denial (even after an earlier allow) and an approval timeout', () => {
    const live = sessionConditions(undefined, facts('Starting', Reason.HelperStarting, { authorization: allowed }), 1, T0);
    const denied = sessionConditions(live, facts('Denied', Reason.UserNotAllowed, { from: 'Starting' }), 1, T1);
    assert.deepEqual(summary(denied), { Authorized: 'False UserNotAllowed', HelperReady: 'False SessionEnded', Ready: 'False UserNotAllowed', Expired: 'False TtlNotElapsed' });
    const timedOut = sessionConditions(undefined, facts('Expired', Reason.ApprovalTimedOut, { from: 'WaitingForApproval' }), 1, T0);
    assert.deepEqual(summary(timedOut), { Authorized: 'False ApprovalTimedOut', HelperReady: 'False SessionEnded', Ready: 'False ApprovalTimedOut', Expired: 'True ApprovalTimedOut' });
  });

  it('Authorized Unknown when the session ends before anything was checked; True for one that had started', () => {
    const tampered = sessionConditions(undefined, facts('Failed', Reason.StatusTampered, { from: 'Pending' }), 1, T0);
    assert.equal(summary(tampered).Authorized, 'Unknown NotDecided');
    // A session from before Authorized was written on every path: it reached Ready, so it was allowed.
    const older = sessionConditions(undefined, facts('Terminated', Reason.TargetGone, { from: 'Ready' }), 1, T0);
    assert.equal(summary(older).Authorized, 'True Allowed');
  });

  it('a helper that could not start names its own reason in HelperReady', () => {
    const c = sessionConditions(undefined, facts('Failed', Reason.HelperRejected, { from: 'Pending', authorization: allowed }), 1, T0);
    assert.deepEqual(summary(c), { Authorized: 'True Allowed', HelperReady: 'False HelperRejected', Ready: 'False HelperRejected', Expired: 'False TtlNotElapsed' });
  });

  it('keeps conditions of other types and does not change its input', () => {
    const input: Condition[] = [{ type: 'Custom', status: 'True', reason: 'Mine', message: '', lastTransitionTime: 'x' }];
    const before = structuredClone(input);
    const out = sessionConditions(input, facts('Pending', Reason.PodNotRunning), 1, T0);
    assert.deepEqual(input, before);
    assert.deepEqual(out[0], input[0]);
    assert.equal(out.length, 5);
  });
});

describe('sessionConditions, every phase', () => {
  for (const phase of PHASES) {
    it(`${phase}: each condition says what its name says`, () => {
      const reason: ReasonName = phase === 'Ready' ? Reason.SessionReady : phase === 'Expired' ? Reason.TtlElapsed : Reason.PodNotRunning;
      const c = summary(sessionConditions(undefined, facts(phase, reason, { authorization: allowed }), 1, T0));
      assert.equal(c.Ready?.startsWith('True'), phase === 'Ready');
      assert.equal(c.HelperReady?.startsWith('True'), phase === 'Ready' || phase === 'Running');
      assert.equal(c.Expired?.startsWith('True'), phase === 'Expired');
      assert.equal(c.Authorized?.startsWith('True'), phase !== 'Denied');
      if (isTerminalPhase(phase)) assert.match(c.HelperReady ?? '', /^False /);
    });
  }
});

describe('the reconciler writes them', () => {
  const KEY = Buffer.alloc(32, 5);
  const NS = 'shop';
  const NOW = new Date('2026-11-22T10:05:00Z');
  const META = { name: 'dbg', namespace: NS, uid: 'u1', generation: 1, finalizers: [FINALIZER], creationTimestamp: '2026-11-22T10:00:00Z' as never };
  const HELPER = 'execsession-system/execsession-u1';
  const cfg = controllerConfig(KEY);
  const running = (namespace: string, name: string): V1Pod => ({
    metadata: { name, namespace, creationTimestamp: '2026-11-22T10:04:00Z' as never },
    spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://abc123abc123', state: { running: {} } }] },
  });

  function cluster(status: ExecSessionStatus): FakeCluster {
    const c = new FakeCluster();
    c.pods.set(`${NS}/web`, running(NS, 'web'));
    c.nodes.set('node-1', { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    c.policies = [{ kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] } } } }];
    const spec = { podName: 'web', user: 'alice', ttl: '15m', tty: true };
    const requester = makeStamp(KEY, { namespace: NS, name: 'dbg', spec }, { username: 'alice', groups: ['developers'] }, new Date('2026-11-22T10:00:00Z'));
    c.addSession({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: META, spec: { ...spec, requester }, status: { ...status, seal: sealOf(KEY, { metadata: META }, status) } });
    return c;
  }
  const reconcile = (c: FakeCluster): Promise<unknown> => {
    const kube = c.kube();
    return new Reconciler({ kube, helpers: new HelperClient(kube, CONTAINERD_PATHS), authorizer: new Authorizer(kube), config: cfg, log: QUIET, clock: () => NOW }).reconcile(`${NS}/dbg`);
  };
  const conditions = (c: FakeCluster): Record<string, string> => summary(c.sessions.get(`${NS}/dbg`)?.status?.conditions ?? []);

  it('writes Authorized when a session without approvals starts (not only on the approval path)', async () => {
    const c = cluster({ phase: 'Pending' });
    await reconcile(c);
    assert.deepEqual(conditions(c), { Authorized: 'True Allowed', HelperReady: 'False HelperStarting', Ready: 'False HelperStarting', Expired: 'False TtlNotElapsed' });
    assert.match(c.sessions.get(`${NS}/dbg`)?.status?.conditions?.[0]?.message ?? '', /^allowed by ExecPolicy shop\/dev/);
  });

  it('sets HelperReady False when the helper of a live session is gone', async () => {
    const c = cluster({
      phase: 'Ready', node: 'node-1', container: 'app', containerID: 'abc123abc123', runtime: 'containerd', backend: 'runtime',
      user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', root: false, rootGroup: false },
      helperPod: { namespace: 'execsession-system', name: 'execsession-u1' }, startedAt: '2026-11-22T10:04:00Z', expiresAt: '2026-11-22T10:19:00Z',
      conditions: sessionConditions(undefined, facts('Ready', Reason.SessionReady, { authorization: allowed }), 1, T0),
    });
    assert.equal(c.pods.has(HELPER), false);
    await reconcile(c);
    assert.equal(c.sessions.get(`${NS}/dbg`)?.status?.phase, 'Failed');
    assert.deepEqual(conditions(c), { Authorized: 'True Allowed', HelperReady: 'False HelperGone', Ready: 'False HelperGone', Expired: 'False TtlNotElapsed' });
  });
});
