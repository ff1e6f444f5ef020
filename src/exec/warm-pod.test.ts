import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_SESSION_NAME, ANNOTATION_SESSION_NAMESPACE, DEADLINE_GRACE_SECONDS, LABEL_COMPONENT, LABEL_SESSION_UID, helperPod } from './helper-pod.js';
import {
  ANNOTATION_CLAIMED_AT, ANNOTATION_IDLE_UNTIL, LABEL_POOL, WARM_SESSION_MAX_SECONDS, claimOrder, claimedAtMs, claimedDeadlineSeconds, claimedPod,
  endedPoolPods, isClaimable, poolDeficit, warmPod,
} from './warm-pod.js';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const MIN = 60_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const BASE = { namespace: 'ops', nodeName: 'node-1', image: 'helper:1', imagePullPolicy: 'Never' };

/** A pool pod made `ageMs` ago with a 10 m idle lifetime, running since its creation (or in `phase`). */
function pooled(name: string, ageMs = MIN, node = 'node-1', phase = 'Running'): V1Pod {
  const pod = warmPod({ ...BASE, nodeName: node, idleMs: 10 * MIN, now: at(-ageMs) });
  pod.metadata = { ...pod.metadata, name, resourceVersion: '7' };
  pod.status = { phase, startTime: at(-ageMs), containerStatuses: phase === 'Running' ? [{ name: 'helper', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] : [] };
  return pod;
}

const SESSION = { name: 'dbg', namespace: 'shop', uid: 'u1' };

describe('warmPod', () => {
  it('is the helper manifest without a session: pool label, no session uid, serving until its idle end, deadline covering idle + the longest session', () => {
    const pod = warmPod({ ...BASE, idleMs: 10 * MIN, now: NOW });
    const cold = helperPod({ ...BASE, session: SESSION, expiresAt: at(15 * MIN), now: NOW });
    assert.equal(pod.metadata?.generateName, 'execsession-warm-');
    assert.deepEqual(pod.metadata?.labels, { [LABEL_COMPONENT]: 'execsession-helper', [LABEL_POOL]: 'warm' });
    assert.equal(pod.metadata?.annotations?.[ANNOTATION_IDLE_UNTIL], '2026-12-06T12:10:00.000Z');
    const idleEnd = String(Math.ceil(at(10 * MIN).getTime() / 1000));
    assert.equal(pod.spec?.containers[0]?.command?.at(-1), idleEnd, 'serve deadline = idle end');
    assert.equal(pod.spec?.activeDeadlineSeconds, 600 + WARM_SESSION_MAX_SECONDS + DEADLINE_GRACE_SECONDS);
    // Everything else is the cold helper's spec.
    const strip = (p: V1Pod): unknown => ({ ...p.spec, activeDeadlineSeconds: 0, containers: p.spec?.containers.map((c) => ({ ...c, command: c.command?.slice(0, -1) })) });
    assert.deepEqual(strip(pod), strip(cold));
  });
});

describe('claimedPod', () => {
  it('in one object: out of the pool, the session uid label and annotations, claim time, deadline lowered to a cold helper\'s from the pod\'s start, same resourceVersion', () => {
    const pod = pooled('execsession-warm-a', 2 * MIN);
    const c = claimedPod(pod, { session: SESSION, lastExpiry: at(15 * MIN), now: NOW });
    assert.ok(c);
    assert.deepEqual(c.metadata?.labels, { [LABEL_COMPONENT]: 'execsession-helper', [LABEL_SESSION_UID]: 'u1' });
    assert.equal(c.metadata?.annotations?.[ANNOTATION_SESSION_NAME], 'dbg');
    assert.equal(c.metadata?.annotations?.[ANNOTATION_SESSION_NAMESPACE], 'shop');
    assert.equal(c.metadata?.annotations?.[ANNOTATION_CLAIMED_AT], NOW.toISOString());
    assert.equal(c.metadata?.resourceVersion, '7', 'the precondition that makes the claim race-free');
    // Started 2 min ago, the session ends in 15: 17 min from the pod's start, plus the grace.
    assert.equal(c.spec?.activeDeadlineSeconds, 17 * 60 + DEADLINE_GRACE_SECONDS);
    assert.equal(claimedAtMs(c), NOW.getTime());
    assert.equal(pod.metadata?.labels?.[LABEL_POOL], 'warm', 'the pod read is not changed');
  });

  it('refuses a session that needs a longer deadline than the pod has left, and a pod whose start is unknown', () => {
    const pod = pooled('execsession-warm-a');
    assert.equal(claimedPod(pod, { session: SESSION, lastExpiry: at((WARM_SESSION_MAX_SECONDS + 600) * 1000), now: NOW }), undefined);
    assert.equal(claimedPod({ ...pod, status: {} }, { session: SESSION, lastExpiry: at(MIN), now: NOW }), undefined);
    assert.equal(claimedDeadlineSeconds({ ...pod, status: {} }, at(MIN)), undefined);
  });
});

describe('choosing a pod', () => {
  it('only running pool pods on the node, not near their idle end, with enough deadline left', () => {
    const last = at(15 * MIN);
    assert.equal(isClaimable(pooled('a'), 'node-1', last, NOW), true);
    assert.equal(isClaimable(pooled('a'), 'node-2', last, NOW), false, 'another node');
    assert.equal(isClaimable(pooled('a', MIN, 'node-1', 'Pending'), 'node-1', last, NOW), false, 'not running yet');
    assert.equal(isClaimable(pooled('a', 10 * MIN - 10_000), 'node-1', last, NOW), false, '10 s before its idle end');
    assert.equal(isClaimable(pooled('a', 10 * MIN - 30_000), 'node-1', last, NOW), true, '30 s before its idle end');
    const claimed = claimedPod(pooled('a'), { session: SESSION, lastExpiry: last, now: NOW })!;
    assert.equal(isClaimable(claimed, 'node-1', last, NOW), false, 'claimed already');
    const deleting = pooled('a');
    deleting.metadata!.deletionTimestamp = NOW;
    assert.equal(isClaimable(deleting, 'node-1', last, NOW), false, 'being deleted');
    assert.equal(isClaimable(pooled('a'), 'node-1', at((WARM_SESSION_MAX_SECONDS + 600) * 1000), NOW), false, 'session too long');
  });

  it('serves a session under any ttl.max: one that may be extended to 24h, or to the 168h limit, fits a pool pod near its idle end', () => {
    assert.equal(isClaimable(pooled('a'), 'node-1', at(24 * 60 * MIN), NOW), true);
    assert.equal(isClaimable(pooled('a', 9 * MIN), 'node-1', at(168 * 60 * MIN), NOW), true);
  });

  it('tries every claimable pod once, starting where the session uid says, so racing claimers spread', () => {
    const pods = ['w-a', 'w-b', 'w-c', 'w-d'].map((n) => pooled(n));
    pods.push(pooled('w-e', MIN, 'node-2'));
    const names = (uid: string): string[] => claimOrder(pods, 'node-1', at(15 * MIN), NOW, uid).map((p) => p.metadata?.name ?? '');
    const starts = new Set<string>();
    for (const uid of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']) {
      const order = names(uid);
      assert.deepEqual([...order].sort(), ['w-a', 'w-b', 'w-c', 'w-d']);
      assert.deepEqual(order, names(uid), 'the same for the same session');
      starts.add(order[0] ?? '');
    }
    assert.ok(starts.size > 1, `different sessions start at different pods: ${[...starts].join(' ')}`);
    assert.deepEqual(claimOrder([], 'node-1', at(MIN), NOW, 'u1'), []);
  });
});

describe('pool sizing and clean-up', () => {
  it('counts live pool pods per node (pending ones too, not ended, deleted, claimed or near their end)', () => {
    const claimed = claimedPod(pooled('c'), { session: SESSION, lastExpiry: at(MIN), now: NOW })!;
    const pods = [pooled('a'), pooled('b', MIN, 'node-1', 'Pending'), pooled('d', MIN, 'node-1', 'Succeeded'), pooled('e', 10 * MIN - 5_000), claimed, pooled('f', MIN, 'node-2')];
    assert.equal(poolDeficit(pods, 'node-1', 3, NOW), 1);
    assert.equal(poolDeficit(pods, 'node-2', 3, NOW), 2);
    assert.equal(poolDeficit(pods, 'node-3', 2, NOW), 2);
    assert.equal(poolDeficit(pods, 'node-1', 1, NOW), 0);
  });

  it('deletes pool pods that ended or are past their idle end, never a claimed one', () => {
    const claimed = claimedPod(pooled('c'), { session: SESSION, lastExpiry: at(MIN), now: NOW })!;
    claimed.status = { phase: 'Succeeded' };
    const pods = [pooled('a'), pooled('d', MIN, 'node-1', 'Succeeded'), pooled('f', MIN, 'node-1', 'Failed'), pooled('g', 11 * MIN), claimed];
    assert.deepEqual(endedPoolPods(pods, NOW).map((p) => p.metadata?.name), ['d', 'f', 'g']);
  });
});
