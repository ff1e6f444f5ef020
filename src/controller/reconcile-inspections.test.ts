// The reconcile tier (as reconcile-phases.test.ts): inspections of the target
// take one of the node's few slots (ADR 40). A session that finds them taken
// waits in the queue, not in a worker, and is woken when one frees; neither
// waiting nor a failing inspection keeps it Starting past the start timeout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeSlots } from './node-slots.js';
import { InspectError } from '../exec/inspect.js';
import { PATCH, SESSION, Scenario } from '../../test/support/reconcile-scenario.js';

/** A session whose helper runs, with `slots` as its node's inspection slots; the writes so far drained. */
async function helperRunning(slots: NodeSlots): Promise<Scenario> {
  const t = new Scenario({ inspections: slots });
  await t.reconcile();
  t.helperRuns();
  t.writes();
  return t;
}

describe('reconcile: inspections limited per node', () => {
  it('waits without an exec or a write while the node\'s slots are taken, is woken when one frees, then goes Ready and frees its own', async () => {
    const woken: string[] = [];
    const slots = new NodeSlots(1, (k) => woken.push(k));
    const other = slots.take('node-1', 'shop/other');
    const t = await helperRunning(slots);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 5000 }, 'a backstop only: a freed slot wakes it');
    assert.deepEqual(t.helpers.calls, []);
    assert.deepEqual(t.writes(), []);
    assert.equal(t.session.status?.phase, 'Starting');
    other?.();
    assert.deepEqual(woken, [SESSION]);
    await t.reconcile();
    assert.deepEqual(t.helpers.calls, ['inspect execsession-u1']);
    assert.equal(t.session.status?.phase, 'Ready');
    assert.equal(t.session.status?.user?.uid, 1000);
    assert.equal(slots.inUse('node-1'), 0);
  });

  it('ends Failed (InspectTimedOut) when no slot freed within the start timeout of the helper\'s creation', async () => {
    const slots = new NodeSlots(1);
    slots.take('node-1', 'shop/other');
    const t = await helperRunning(slots);
    t.advance(121_000);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 }, 'the clean-up is queued behind');
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'InspectTimedOut');
    assert.match(t.session.status?.message ?? '', /^container "app" of pod shop\/web could not be inspected within 120s of its helper's creation \(1 sessions wait for one of the 1 inspections running on node node-1\); the node is busy/);
    assert.deepEqual(t.writes(), [PATCH, 'create events Warning InspectTimedOut']);
    assert.deepEqual(t.helpers.calls, []);
  });

  it('retries a failed inspection with backoff (the reconcile throws), freeing its slot, and after the start timeout ends Failed naming the error', async () => {
    const slots = new NodeSlots(1);
    const t = await helperRunning(slots);
    const timedOut = new Error('command in pod execsession-system/execsession-u1 did not finish within 30000 ms');
    t.helpers.failures.inspect = [timedOut, timedOut];
    await assert.rejects(t.reconcile(), timedOut);
    assert.equal(slots.inUse('node-1'), 0);
    assert.equal(t.session.status?.phase, 'Starting');
    t.advance(121_000);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 });
    assert.equal(t.reason(), 'InspectTimedOut');
    assert.match(t.session.status?.message ?? '', /within 120s of its helper's creation \(command in pod execsession-system\/execsession-u1 did not finish within 30000 ms\)/);
    assert.equal(slots.inUse('node-1'), 0);
  });

  it('ends Failed (RuntimeNotFound) at once when the helper finds no such container, freeing its slot', async () => {
    const slots = new NodeSlots(1);
    const t = await helperRunning(slots);
    t.helpers.failures.inspect = [new InspectError('no process of container abc123abc123 found on this node')];
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'RuntimeNotFound');
    assert.match(t.session.status?.message ?? '', /no process of container abc123abc123 found/);
    assert.equal(slots.inUse('node-1'), 0);
  });
});
