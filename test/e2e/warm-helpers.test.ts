/**
 * Warm helpers through the real operator (ADR 41), with `--warm-helpers 1`: the
 * first session on a node starts a cold helper and makes the node "recently
 * used", so the pool is filled there; the next session claims the waiting pod
 * (no pod start), runs its command through it as the user resolved in the
 * target, the pool is refilled in the background, and the claimed helper is
 * gone once its session is deleted. Then the operator is SIGKILLed at seeded
 * random points while sessions claim and while they are deleted
 * (EXECSESSION_FAULT_SEED, printed): every session still ends up with exactly
 * one helper, and none is left after the deletes. Bounded: ~90 s (pod starts in
 * the background, no expiry waited for). How fast is measured by
 * bench:lifecycle, not here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL_SESSION_UID } from '../../src/exec/helper-pod.js';
import { POOL_SELECTOR, WARM_NAME_PREFIX } from '../../src/exec/warm-pod.js';
import { KubeClient } from '../../src/k8s/kube.js';
import { eventually, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, installCrds, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { Rng } from '../support/fuzz.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const SEED = Number(process.env.EXECSESSION_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
process.stdout.write(`warm-helpers: EXECSESSION_FAULT_SEED=${SEED}\n`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('warm helpers (--warm-helpers 1)', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let node = '';
  const kube = new KubeClient(kubeConfig());

  /** Pool pods on the target's node whose helper container runs. */
  const waiting = async (): Promise<V1Pod[]> => (await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR))
    .filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp && p.status?.containerStatuses?.some((c) => c.state?.running));

  before(async () => {
    requireCluster();
    await installCrds();
    // Pool pods another run left are not this operator's to count.
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pods', '-l', POOL_SELECTOR, '--wait=false']);
    ns = await tempNamespace('warm');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    node = await kubectlOk(['-n', ns.name, 'get', 'pod', 'target', '-o', 'jsonpath={.spec.nodeName}']);
    operator = suiteOperator(['--warm-helpers=1', '--warm-helper-idle=2m']);
    await operator.start();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pods', '-l', POOL_SELECTOR, '--wait=false']);
  });

  it('fills the pool on a node once a session started there: the first session gets a cold helper', async () => {
    assert.deepEqual(await waiting(), [], 'no pool before any session');
    await createSession(ns.name, 'first', { podName: 'target', user: 'alice', ttl: '5m' });
    const { session } = await waitForPhase(ns.name, 'first', ['Ready'], 60_000);
    assert.equal(session.status?.helperPod?.name, `execsession-${session.metadata.uid}`);
    await eventually('a warm helper waiting on the node', async () => (await waiting()).length === 1, 60_000, 250);
  });

  it('the next session claims it: its command runs through it as alice, it serves that session only, and the pool is refilled', async () => {
    const [pod] = await waiting();
    assert.ok(pod);
    await createSession(ns.name, 'warm', { podName: 'target', user: 'alice', ttl: '5m', tty: false, command: ['id', '-u'] });
    const { session } = await waitForPhase(ns.name, 'warm', ['Succeeded'], 60_000);
    assert.equal(session.status?.helperPod?.name, pod.metadata?.name, 'the waiting pod, not a new one');
    assert.equal(session.status?.result?.stdout?.trim(), '1000');
    const claimed = await kube.getPod(OPERATOR_NAMESPACE, pod.metadata?.name ?? '');
    // Ended, it may be gone already; while it exists it is this session's and out of the pool.
    if (claimed && !claimed.metadata?.deletionTimestamp) {
      assert.equal(claimed.metadata?.labels?.[LABEL_SESSION_UID], session.metadata.uid);
      assert.equal(claimed.metadata?.labels?.['execsession.dev/pool'], undefined);
    }
    const refilled = await eventually('the pool refilled', async () => {
      const now = await waiting();
      return now.length === 1 && now[0]?.metadata?.name !== pod.metadata?.name ? now : undefined;
    }, 60_000, 250);
    assert.ok(refilled?.[0]?.metadata?.name?.startsWith(WARM_NAME_PREFIX));
    // The claimed pod never went back: the pool holds only the new one.
    assert.ok((await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR)).every((p) => p.metadata?.name !== pod.metadata?.name));
  });

  it('a claimed interactive helper is gone once its session is deleted', async () => {
    const [pod] = await waiting();
    assert.ok(pod);
    await createSession(ns.name, 'live', { podName: 'target', user: 'alice', ttl: '5m' });
    const { session } = await waitForPhase(ns.name, 'live', ['Ready'], 60_000);
    assert.equal(session.status?.helperPod?.name, pod.metadata?.name);
    await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'live']);
    await eventually('no helper of the deleted session', async () =>
      (await kube.listPods(OPERATOR_NAMESPACE, `${LABEL_SESSION_UID}=${session.metadata.uid}`)).length === 0, 30_000, 250);
  });

  it('SIGKILLed at random points while sessions claim and while they are deleted: one helper each, none left', async () => {
    const rand = new Rng(SEED);
    const names = ['kill-a', 'kill-b', 'kill-c', 'kill-d'];
    const kills: string[] = [];
    for (const name of names) {
      await createSession(ns.name, name, { podName: 'target', user: 'alice', ttl: '5m' });
      // Anywhere from admission to the claim, the deadline exec and the inspection.
      const at = Math.floor(rand.next() * 1500);
      await sleep(at);
      await operator.crash();
      kills.push(`${name} +${at} ms`);
      await operator.startAgain();
    }
    const uids = new Map<string, string>();
    for (const name of names) {
      const { session } = await waitForPhase(ns.name, name, ['Ready'], 90_000);
      const uid = session.metadata.uid ?? '';
      uids.set(name, uid);
      const helpers = (await kube.listPods(OPERATOR_NAMESPACE, `${LABEL_SESSION_UID}=${uid}`)).filter((p) => !p.metadata?.deletionTimestamp);
      assert.deepEqual(helpers.map((p) => p.metadata?.name), [session.status?.helperPod?.name], `${name}: exactly its one helper (kills: ${kills.join('; ')})`);
      assert.equal(helpers[0]?.metadata?.labels?.['execsession.dev/pool'], undefined, `${name}: its helper left the pool`);
    }
    assert.equal(new Set(uids.values()).size, names.length);
    // Deleted with the operator killed during the clean-up.
    await kubectlOk(['-n', ns.name, 'delete', 'execsessions', ...names, '--wait=false']);
    const at = Math.floor(rand.next() * 1000);
    await sleep(at);
    await operator.crash();
    kills.push(`delete +${at} ms`);
    await operator.startAgain();
    await eventually(`no helper of the deleted sessions (seed ${SEED}; kills: ${kills.join('; ')})`, async () => {
      const left = (await kube.listPods(OPERATOR_NAMESPACE, LABEL_SESSION_UID)).filter((p) => [...uids.values()].includes(p.metadata?.labels?.[LABEL_SESSION_UID] ?? ''));
      return left.length === 0;
    }, 60_000, 250);
    process.stdout.write(`warm-helpers: seed ${SEED} kills: ${kills.join('; ')}\n`);
  });
});
