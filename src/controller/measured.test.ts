import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sample } from '../../test/support/metrics.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import { measured, reconcileResult } from './measured.js';

describe('reconcile metrics (controller_runtime_reconcile_*)', () => {
  it('names each outcome as controller-runtime does', () => {
    assert.equal(reconcileResult(undefined), 'success');
    assert.equal(reconcileResult({}), 'success');
    assert.equal(reconcileResult({ requeueAfterMs: 0 }), 'requeue');
    assert.equal(reconcileResult({ requeueAfterMs: 500 }), 'requeue_after');
  });

  it('counts every call by result, errors also in reconcile_errors_total, and times each', async () => {
    const metrics = new OperatorMetrics();
    let clock = 0;
    const outcomes = [{}, { requeueAfterMs: 30_000 }, new Error('503')];
    const worker = measured('execsession', async () => {
      clock += 2;
      const next = outcomes.shift();
      if (next instanceof Error) throw next;
      return next;
    }, metrics, () => clock);
    assert.deepEqual(await worker('a/b'), {});
    assert.deepEqual(await worker('a/b'), { requeueAfterMs: 30_000 });
    await assert.rejects(worker('a/b'), /503/, 'the error still reaches the queue, which retries it');
    const c = { controller: 'execsession' };
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_total', { ...c, result: 'success' }), 1);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_total', { ...c, result: 'requeue_after' }), 1);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_total', { ...c, result: 'error' }), 1);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_total', { ...c, result: 'requeue' }), 0);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_errors_total', c), 1);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_time_seconds_count', c), 3);
    assert.equal(await sample(metrics, 'controller_runtime_reconcile_time_seconds_sum', c), 0.006);
  });
});
