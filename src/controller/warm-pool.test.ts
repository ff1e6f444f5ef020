// The pool's own I/O over the fake API server: filled only on nodes where a
// session started, refilled after a claim, forgotten after the idle lifetime,
// ended pool pods deleted; off (size 0) it does nothing at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_SESSION_UID } from '../exec/helper-pod.js';
import { LABEL_POOL } from '../exec/warm-pod.js';
import { QUIET } from '../../test/support/controller.js';
import { FakeCluster } from '../../test/support/fake-kube.js';
import { WarmPool } from './warm-pool.js';

const OPS = 'execsession-system';
const MIN = 60_000;

function setup(size: number): { c: FakeCluster; pool: WarmPool; clock: { now: Date } } {
  const c = new FakeCluster();
  const clock = { now: new Date('2026-12-06T12:00:00Z') };
  c.podClock = () => clock.now;
  const pool = new WarmPool(c.kube(), { namespace: OPS, image: 'helper:test', pullPolicy: 'Never', size, idleMs: 10 * MIN }, QUIET, () => clock.now);
  return { c, pool, clock };
}

const poolPods = (c: FakeCluster, node: string): string[] => [...c.pods.values()]
  .filter((p) => p.metadata?.labels?.[LABEL_POOL] === 'warm' && p.spec?.nodeName === node).map((p) => p.metadata?.name ?? '');

/** Marks every pool pod running, as the kubelet would. */
function run(c: FakeCluster, since: Date): void {
  for (const p of c.pods.values()) {
    if (p.metadata?.labels?.[LABEL_POOL] !== 'warm' || p.status) continue;
    p.status = { phase: 'Running', startTime: since, containerStatuses: [{ name: 'helper', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
  }
}

describe('WarmPool', () => {
  it('fills a node only once a session started there, to its size', async () => {
    const { c, pool } = setup(2);
    await pool.tick();
    assert.equal(c.pods.size, 0, 'no node used: no pool');
    await pool.refill('node-1');
    assert.equal(poolPods(c, 'node-1').length, 2);
    await pool.refill('node-1');
    assert.equal(poolPods(c, 'node-1').length, 2, 'full: nothing more');
  });

  it('refills after a claim; the claimed pod is the session\'s and out of the pool', async () => {
    const { c, pool, clock } = setup(1);
    await pool.refill('node-1');
    run(c, clock.now);
    const [first] = poolPods(c, 'node-1');
    const claimed = await pool.claim('node-1', { session: { name: 'dbg', namespace: 'shop', uid: 'u1' }, lastExpiry: new Date(clock.now.getTime() + 15 * MIN), now: clock.now });
    assert.equal(claimed?.metadata?.name, first);
    assert.equal(c.pods.get(`${OPS}/${first}`)?.metadata?.labels?.[LABEL_SESSION_UID], 'u1');
    await new Promise((r) => setImmediate(r));
    await pool.refill('node-1');
    const now = poolPods(c, 'node-1');
    assert.equal(now.length, 1);
    assert.notEqual(now[0], first);
  });

  it('finds nothing to claim on another node, or once its pods are near their idle end', async () => {
    const { c, pool, clock } = setup(1);
    pool.used = () => undefined;
    await pool.refill('node-1');
    run(c, clock.now);
    const claim = { session: { name: 'dbg', namespace: 'shop', uid: 'u1' }, lastExpiry: new Date(clock.now.getTime() + 15 * MIN), now: clock.now };
    assert.equal(await pool.claim('node-2', claim), undefined);
    clock.now = new Date(clock.now.getTime() + 10 * MIN - 5_000);
    assert.equal(await pool.claim('node-1', { ...claim, now: clock.now }), undefined);
  });

  it('forgets a node unused for the idle lifetime and deletes pool pods past their idle end', async () => {
    const { c, pool, clock } = setup(1);
    pool.used('node-1');
    await new Promise((r) => setImmediate(r));
    await pool.refill('node-1');
    assert.equal(poolPods(c, 'node-1').length, 1);
    clock.now = new Date(clock.now.getTime() + 11 * MIN);
    await pool.tick();
    await pool.tick();
    assert.deepEqual(poolPods(c, 'node-1'), [], 'not refilled, and the expired one deleted');
  });

  it('does nothing with size 0', async () => {
    const { c, pool, clock } = setup(0);
    pool.used('node-1');
    await pool.refill('node-1').catch(() => undefined);
    assert.equal(await pool.claim('node-1', { session: { name: 'dbg', namespace: 'shop', uid: 'u1' }, lastExpiry: clock.now, now: clock.now }), undefined);
    await pool.tick();
    assert.equal(c.pods.size, 0);
    assert.deepEqual(c.actions, []);
  });
});
