// The reconcile-level tier, continued from reconcile-phases.test.ts: transient errors, the
// approval gate and what a reconcile observes in metrics (same scaffolding, test/support/reconcile-scenario.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { signApproval } from '../approval/approvals.js';
import { sample } from '../../test/support/metrics.js';
import type { ExecPolicySpec } from '../policy/types.js';
import { KEY, NS, SESSION, MIN, at, Scenario, PATCH, FINALIZE, CREATE_HELPER } from '../../test/support/reconcile-scenario.js';

describe('reconcile: transient errors go back to the queue and never end the session', () => {
  const unavailable = (): ApiException<unknown> => new ApiException(503, 'Service Unavailable', { message: 'etcdserver: leader changed' }, {});
  const reset = (): Error => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

  for (const [name, error] of [['503 creating the helper pod', unavailable], ['ECONNRESET creating the helper pod', reset], ['429 creating the helper pod', () => new ApiException(429, 'Too Many Requests', {}, {})]] as const) {
    it(`${name}: throws for a retry with backoff; the retry creates the helper with the recorded lifetime`, async () => {
      const t = new Scenario();
      t.c.failNext('createPod', error());
      await assert.rejects(t.reconcile());
      assert.deepEqual(t.writes(), [FINALIZE, PATCH], 'the lifetime was recorded before the helper was asked for');
      assert.equal(t.session.status?.phase, 'Starting');
      const expiresAt = t.session.status?.expiresAt;
      t.advance(10_000);
      assert.deepEqual(await t.reconcile(), { requeueAfterMs: 500 });
      assert.deepEqual(t.writes(), [CREATE_HELPER, 'create events Normal Starting']);
      assert.equal(t.session.status?.expiresAt, expiresAt);
    });
  }

  it('a failed status write: nothing acts on an expiry that status does not hold (no helper)', async () => {
    const t = new Scenario();
    t.c.failNext('patchSessionStatus', unavailable());
    await assert.rejects(t.reconcile());
    assert.deepEqual(t.writes(), [FINALIZE]);
    assert.equal(t.helper, undefined);
  });

  it('a live session whose target cannot be read (ETIMEDOUT) stays Ready', async () => {
    const t = new Scenario();
    await t.ready();
    t.c.failNext('getPod', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
    await assert.rejects(t.reconcile());
    assert.deepEqual(t.writes(), []);
    assert.equal(t.session.status?.phase, 'Ready');
  });

  it('a refused helper pod (403) ends the session Failed with the API server\'s message', async () => {
    const t = new Scenario();
    t.c.failNext('createPod', new ApiException(403, 'Forbidden', { message: 'pods "execsession-u1" is forbidden: violates PodSecurity "baseline:latest": privileged' }, {}));
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'HelperRejected');
    assert.match(t.session.status?.message ?? '', /^the helper pod was rejected: pods "execsession-u1" is forbidden: violates PodSecurity/);
  });
});

describe('reconcile: the approval gate', () => {
  const approvalPolicy: Partial<ExecPolicySpec> = { approval: { required: 1, approvers: [{ kind: 'User', name: 'carol' }] } };

  /** Records carol's decision as the approve/deny subresource does: signed, in status. */
  async function decide(t: Scenario, decision: 'Approved' | 'Denied'): Promise<void> {
    const record = signApproval(KEY, { namespace: NS, name: 'dbg', uid: 'u1' }, { decision, who: { username: 'carol', groups: [] }, at: t.now.toISOString().replace(/\.\d{3}Z$/, 'Z') });
    await t.kube.patchSessionStatus(NS, 'dbg', { approvals: [record] });
    t.writes();
  }

  it('holds the session WaitingForApproval with no lifetime and no helper; once approved, its lifetime counts from then', async () => {
    const t = new Scenario({ policy: approvalPolicy });
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, PATCH, 'create events Normal WaitingForApproval']);
    assert.equal(t.session.status?.phase, 'WaitingForApproval');
    assert.equal(t.session.status?.expiresAt, undefined);
    assert.equal(t.helper, undefined);
    // Looked at again at the approval deadline (30m, less the second the clock is past creation), not on a timer (ADR 35).
    assert.deepEqual(out, { requeueAfterMs: 30 * MIN - 1000 });
    t.advance(30_000);
    await t.reconcile();
    assert.deepEqual(t.writes(), [], 'waiting again writes nothing');
    t.advance(3 * MIN);
    await decide(t, 'Approved');
    await t.reconcile();
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Approved', PATCH, CREATE_HELPER, 'create events Normal Starting']);
    assert.deepEqual([t.session.status?.startedAt, t.session.status?.expiresAt], ['2026-11-22T10:03:31Z', '2026-11-22T10:08:31Z']);
  });

  it('ends a denied session Denied (ApprovalDenied), without a helper', async () => {
    const t = new Scenario({ policy: approvalPolicy });
    await t.reconcile();
    await decide(t, 'Denied');
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Denied');
    assert.equal(t.reason(), 'ApprovalDenied');
    assert.equal(t.helper, undefined);
  });
});

describe('reconcile: what it observes in metrics', () => {
  it('create-to-Ready seconds, once, from the session\'s creation', async () => {
    const t = new Scenario({ now: at('2026-11-22T10:00:04Z') });
    await t.ready();
    await t.reconcile();
    assert.equal(await sample(t.metrics, 'execsession_create_to_ready_seconds_count'), 1);
    assert.equal(await sample(t.metrics, 'execsession_create_to_ready_seconds_sum'), 4);
    assert.equal(await sample(t.metrics, 'execsession_create_to_ready_seconds_bucket', { le: 5 }), 1);
    assert.equal(await sample(t.metrics, 'execsession_create_to_ready_seconds_bucket', { le: 3 }), 0);
  });

  it('expiry lateness: how long after expiresAt the session was ended Expired', async () => {
    const t = new Scenario();
    await t.ready();
    t.now = new Date(Date.parse(t.session.status?.expiresAt ?? '') + 3_000);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Expired');
    assert.equal(await sample(t.metrics, 'execsession_expiry_lateness_seconds_count'), 1);
    assert.equal(await sample(t.metrics, 'execsession_expiry_lateness_seconds_sum'), 3);
  });

  it('a session the controller denies counts under its reason; a revoked one is no denial and no expiry', async () => {
    const denied = new Scenario({ spec: { ttl: '20m' } });
    await denied.reconcile();
    assert.equal(await sample(denied.metrics, 'execsession_denials_total', { stage: 'controller', reason: 'TtlTooLong' }), 1);
    const revoked = new Scenario();
    await revoked.ready();
    revoked.c.sessions.get(SESSION)!.status!.revocation = { at: '2026-11-22T10:01:00Z', username: 'carol' };
    await revoked.reconcile();
    assert.equal(revoked.session.status?.phase, 'Terminated');
    assert.equal(await sample(revoked.metrics, 'execsession_denials_total', { stage: 'controller' }), undefined);
    assert.equal(await sample(revoked.metrics, 'execsession_expiry_lateness_seconds_count'), 0);
  });
});
