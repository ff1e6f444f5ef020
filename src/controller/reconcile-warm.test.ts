// The reconcile-level tier with the warm helper pool (ADR 41): the real WarmPool
// over the fake API server. A session claims a running pool pod instead of
// creating one, binds it to its expiry, and is inspected through it at once; a
// claim written just before a crash is found by its label and adopted, never
// doubled; without a free pool pod the session gets a cold helper as before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL_SESSION_UID } from '../exec/helper-pod.js';
import { ANNOTATION_CLAIMED_AT, LABEL_POOL, claimedPod, warmPod } from '../exec/warm-pod.js';
import { QUIET } from '../../test/support/controller.js';
import { CFG, CREATE_HELPER, FINALIZE, MIN, OPS, PATCH, SESSION, Scenario, at } from '../../test/support/reconcile-scenario.js';
import { WarmPool } from './warm-pool.js';

const WARM = `${OPS}/execsession-warm-a`;

/** A pool pod on node-1, made (and running since) `since`. */
function poolPod(since: Date, name = 'execsession-warm-a'): V1Pod {
  const pod = warmPod({ namespace: OPS, nodeName: 'node-1', image: 'helper:test', imagePullPolicy: 'Never', idleMs: 10 * MIN, now: since });
  pod.metadata = { ...pod.metadata, name, resourceVersion: '1', creationTimestamp: since as never };
  pod.status = { phase: 'Running', startTime: since, containerStatuses: [{ name: 'helper', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
  return pod;
}

/** A scenario whose reconciler has a pool of `size` per node; refills never run here (tests look at claims only). */
function withPool(): Scenario {
  return new Scenario({
    now: at('2026-11-22T10:00:01.300Z'),
    pool: (t) => {
      const pool = new WarmPool(t.kube, { namespace: OPS, image: 'helper:test', pullPolicy: 'Never', size: 1, idleMs: 10 * MIN }, QUIET, () => t.now);
      pool.used = () => undefined;
      return pool;
    },
  });
}

describe('reconcile with warm helpers', () => {
  it('claims a running pool pod in one update, binds it to the expiry, records it sealed, and inspects at once: Ready without a pod start', async () => {
    const t = withPool();
    t.c.pods.set(WARM, poolPod(at('2026-11-22T09:58:00Z')));
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, `update pods ${WARM}`, PATCH, 'create events Normal Starting'], 'no pod created');
    assert.deepEqual(out, { requeueAfterMs: 0 });
    const st = t.session.status;
    assert.deepEqual(st?.helperPod, { namespace: OPS, name: 'execsession-warm-a' });
    assert.deepEqual([st?.startedAt, st?.expiresAt, st?.extendableUntil], ['2026-11-22T10:00:02Z', '2026-11-22T10:05:02Z', '2026-11-22T10:10:02Z']);
    const pod = t.c.pods.get(WARM);
    assert.equal(pod?.metadata?.labels?.[LABEL_SESSION_UID], 'u1');
    assert.equal(pod?.metadata?.labels?.[LABEL_POOL], undefined);
    // Running since 09:58:00; the last possible expiry is 10:10:02: 722 s, plus the grace.
    assert.equal(pod?.spec?.activeDeadlineSeconds, 722 + 10);
    assert.deepEqual(t.helpers.calls, ['setDeadline execsession-warm-a 2026-11-22T10:05:02.000Z']);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Ready', t.session.status?.message);
    assert.deepEqual(t.helpers.calls.slice(1), ['inspect execsession-warm-a']);
  });

  it('ends the claimed helper with its session: found by its label, deleted', async () => {
    const t = withPool();
    t.c.pods.set(WARM, poolPod(at('2026-11-22T09:58:00Z')));
    await t.reconcile();
    await t.reconcile();
    t.advance(6 * MIN);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Expired');
    await t.reconcile();
    assert.equal(t.c.pods.has(WARM), false);
    assert.ok(t.helpers.calls.includes('retire execsession-warm-a'));
  });

  it('after a crash between the claim and the status write, adopts the claimed pod by its label: no second claim, no cold helper, expiry from the claim', async () => {
    const t = withPool();
    const claimed = claimedPod(poolPod(at('2026-11-22T09:58:00Z')), { session: { name: 'dbg', namespace: 'shop', uid: 'u1' }, lastExpiry: at('2026-11-22T10:10:00Z'), now: at('2026-11-22T09:59:59.500Z') });
    assert.ok(claimed);
    t.c.pods.set(WARM, claimed);
    t.c.pods.set(`${OPS}/execsession-warm-b`, poolPod(at('2026-11-22T09:58:00Z'), 'execsession-warm-b'));
    await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, PATCH, 'create events Normal Starting'], 'no claim, no create');
    assert.equal(t.session.status?.helperPod?.name, 'execsession-warm-a');
    assert.equal(t.session.status?.startedAt, '2026-11-22T10:00:00Z', 'counted from the claim (09:59:59.5, up to the second), not now');
    assert.deepEqual(t.helpers.calls, ['setDeadline execsession-warm-a 2026-11-22T10:05:00.000Z'], 'bound to the expiry again');
    assert.equal(t.c.pods.get(`${OPS}/execsession-warm-b`)?.metadata?.labels?.[LABEL_POOL], 'warm', 'the other pool pod is untouched');
    assert.ok(claimed.metadata?.annotations?.[ANNOTATION_CLAIMED_AT]);
  });

  it('takes a cold helper when the pool pod was claimed by someone else since it was listed (409), or none runs on the node', async () => {
    const t = withPool();
    t.c.pods.set(WARM, poolPod(at('2026-11-22T09:58:00Z')));
    // Another claimer's write lands between this one's list and its update.
    const replace = t.kube.replacePod.bind(t.kube);
    t.kube.replacePod = async (pod) => {
      const theirs = claimedPod(t.c.pods.get(WARM)!, { session: { name: 'other', namespace: 'shop', uid: 'u9' }, lastExpiry: at('2026-11-22T10:10:00Z'), now: t.now })!;
      await replace(theirs);
      return replace(pod);
    };
    await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, `update pods ${WARM}`, PATCH, CREATE_HELPER, 'create events Normal Starting']);
    assert.equal(t.c.pods.get(WARM)?.metadata?.labels?.[LABEL_SESSION_UID], 'u9', 'the pod serves the other session only');
    assert.equal(t.session.status?.helperPod?.name, 'execsession-u1');
    assert.equal(SESSION, 'shop/dbg');
    assert.equal(CFG.warmHelpers, undefined, 'the pool is the reconciler\'s own dependency, not read from config here');
  });
});
