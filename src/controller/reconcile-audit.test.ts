// The reconcile-level tier for audit events (src/audit): which steps the
// controller emits, once each, in order, with whom as the actor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN, Scenario } from '../../test/support/reconcile-scenario.js';

const steps = (t: Scenario): string[][] => t.audited.map((e) => [e.type, e.actor.username]);

describe('reconcile: audit events', () => {
  it('a session that goes live and expires: requested by its requester, started, expired and ended by the operator, each once', async () => {
    const t = new Scenario();
    await t.ready();
    await t.reconcile();
    assert.deepEqual(steps(t), [['requested', 'alice'], ['started', 'execsession-operator']]);
    const started = t.audited[1];
    assert.deepEqual([started?.policy, started?.phase, started?.expiresAt, started?.time], ['ExecPolicy/shop/dev', 'Ready', t.session.status?.expiresAt, t.session.status?.startedAt]);
    assert.deepEqual([started?.session.uid, started?.containerUser.uid, started?.container], ['u1', t.session.status?.user?.uid, 'app']);
    t.advance(6 * MIN);
    await t.reconcile();
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(steps(t).slice(2), [['expired', 'execsession-operator'], ['ended', 'execsession-operator']]);
    const ended = t.audited[3];
    assert.deepEqual([ended?.phase, ended?.reason, ended?.time], ['Expired', 'TtlElapsed', t.session.status?.endedAt]);
    assert.equal(new Set(t.audited.map((e) => e.id)).size, 4);
  });

  it('a denial by the controller: requested, then denied and ended, with the reason', async () => {
    const t = new Scenario({ spec: { ttl: '20m' } });
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(t.audited.map((e) => [e.type, e.reason]), [['requested', undefined], ['denied', 'TtlTooLong'], ['ended', 'TtlTooLong']]);
  });

  it('a one-shot command: started (Running), then its result and the ending with the exit code', async () => {
    const t = new Scenario({ spec: { tty: false, command: ['id'] } });
    await t.reconcile();
    t.helperRuns();
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Running', t.session.status?.message);
    t.helpers.jobResult = { exitCode: 3, stdout: '', stderr: 'no', truncated: false };
    await t.reconcile();
    assert.deepEqual(t.audited.map((e) => [e.type, e.phase, e.exitCode]), [['requested', undefined, undefined], ['started', 'Running', undefined], ['result', 'Failed', 3], ['ended', 'Failed', 3]]);
    assert.deepEqual(t.audited[1]?.command, ['id']);
  });
});
