import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionType, Reason, getCondition, kubeTime, setCondition, type ReasonName } from './conditions.js';
import type { Condition } from './types.js';

const t0 = new Date('2025-01-01T00:00:00.123Z');
const t1 = new Date('2025-01-01T00:05:00.000Z');

const ready = (status: Condition['status'], reason: ReasonName, message = '') => ({
  type: ConditionType.Ready,
  status,
  reason,
  message,
});

describe('kubeTime', () => {
  it('formats RFC 3339 UTC with whole seconds, like metav1.Time', () => {
    assert.equal(kubeTime(t0), '2025-01-01T00:00:00Z');
  });
});

describe('setCondition', () => {
  it('adds a condition to an absent list', () => {
    const got = setCondition(undefined, ready('False', Reason.HelperStarting), 1, t0);
    assert.deepEqual(got, [
      {
        type: 'Ready',
        status: 'False',
        observedGeneration: 1,
        lastTransitionTime: '2025-01-01T00:00:00Z',
        reason: 'HelperStarting',
        message: '',
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not change, but updates the rest', () => {
    const first = setCondition([], ready('False', Reason.HelperStarting), 1, t0);
    const second = setCondition(first, ready('False', Reason.PodNotRunning, 'pod is Pending'), 2, t1);
    assert.equal(second.length, 1);
    assert.equal(second[0]?.lastTransitionTime, '2025-01-01T00:00:00Z');
    assert.equal(second[0]?.observedGeneration, 2);
    assert.equal(second[0]?.reason, 'PodNotRunning');
    assert.equal(second[0]?.message, 'pod is Pending');
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition([], ready('False', Reason.HelperStarting), 1, t0);
    const second = setCondition(first, ready('True', Reason.SessionReady), 1, t1);
    assert.equal(second[0]?.lastTransitionTime, '2025-01-01T00:05:00Z');
    assert.equal(second[0]?.status, 'True');
  });

  it('replaces by type in place and leaves other types alone', () => {
    let list = setCondition([], { type: ConditionType.Authorized, status: 'True', reason: Reason.Allowed, message: '' }, 1, t0);
    list = setCondition(list, ready('False', Reason.HelperStarting), 1, t0);
    list = setCondition(list, { type: ConditionType.Expired, status: 'False', reason: Reason.TtlNotElapsed, message: '' }, 1, t0);
    const updated = setCondition(list, ready('True', Reason.SessionReady), 3, t1);
    assert.deepEqual(updated.map((c) => c.type), ['Authorized', 'Ready', 'Expired']);
    assert.deepEqual(updated[0], list[0]);
    assert.equal(updated[1]?.observedGeneration, 3);
  });

  it('does not mutate its input', () => {
    const input = setCondition([], ready('False', Reason.HelperStarting), 1, t0);
    const snapshot = structuredClone(input);
    const output = setCondition(input, ready('True', Reason.SessionReady), 2, t1);
    assert.deepEqual(input, snapshot);
    assert.notEqual(output, input);
  });
});

describe('getCondition', () => {
  it('finds by type and returns undefined when absent', () => {
    const list = setCondition(undefined, ready('True', Reason.SessionReady), 1, t0);
    assert.equal(getCondition(list, ConditionType.Ready)?.reason, 'SessionReady');
    assert.equal(getCondition(list, ConditionType.Expired), undefined);
    assert.equal(getCondition(undefined, ConditionType.Ready), undefined);
  });
});

describe('reasons', () => {
  it('are CamelCase and valid metav1.Condition reasons', () => {
    for (const [key, value] of Object.entries(Reason)) {
      assert.equal(key, value);
      assert.match(value, /^[A-Z][A-Za-z0-9]*$/);
    }
  });

  it('are typed: a reason that is not one of them does not compile', () => {
    // @ts-expect-error 'Active' is no Reason; tsc (npm run typecheck) fails if this line compiles.
    const update: Parameters<typeof setCondition>[1] = { type: ConditionType.Ready, status: 'False', reason: 'Active', message: '' };
    assert.equal(update.reason, 'Active');
  });
});
