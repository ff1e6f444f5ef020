/**
 * controller-runtime's reconcile metrics around a worker: every call is counted
 * with its result (success, error, requeue, requeue_after) and timed, so the
 * queue and the reconciler stay free of metric calls.
 */
import type { OperatorMetrics, ReconcileResult } from '../metrics/metrics.js';
import type { Outcome, Worker } from './queue.js';

/** The result label of an outcome, as controller-runtime names it. */
export function reconcileResult(outcome: Outcome | void): ReconcileResult {
  const after = outcome?.requeueAfterMs;
  if (after === undefined) return 'success';
  return after > 0 ? 'requeue_after' : 'requeue';
}

/** `worker`, counted and timed as the reconciles of `controller`. */
export function measured(controller: string, worker: Worker, metrics: Pick<OperatorMetrics, 'reconciled'>, now: () => number = () => performance.now()): Worker {
  return async (key) => {
    const started = now();
    try {
      const outcome = await worker(key);
      metrics.reconciled(controller, reconcileResult(outcome), (now() - started) / 1000);
      return outcome;
    } catch (e) {
      metrics.reconciled(controller, 'error', (now() - started) / 1000);
      throw e;
    }
  };
}
