/**
 * Warm helpers over the real API server and kubelet (ADR 41), without the
 * operator process: two Reconcilers with their own clients and pools stand for
 * two replicas, racing for a pool of M running pods with K > M sessions, each
 * session reconciled by both at once; then a claim written as if the operator
 * died right after it (the pod is the session's by label, nothing else
 * happened): adopted by the next reconcile, or, for a session deleted
 * meanwhile, swept. Bounded: ~1 min (pods start once; nothing waits for expiry).
 */
import { QUIET, controllerConfig } from '../support/controller.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ExecSession, ExecSessionSpec } from '../../src/api/types.js';
import { Authorizer } from '../../src/authz/authorizer.js';
import { Controller } from '../../src/controller/controller.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { WarmPool } from '../../src/controller/warm-pool.js';
import { CONTAINERD_PATHS, HelperClient } from '../../src/exec/helper-client.js';
import { LABEL_SESSION_UID } from '../../src/exec/helper-pod.js';
import { POOL_SELECTOR, WARM_NAME_PREFIX, claimedDeadlineSeconds, claimedPod, warmPod } from '../../src/exec/warm-pod.js';
import { KubeClient } from '../../src/k8s/kube.js';
import { OperatorMetrics } from '../../src/metrics/metrics.js';
import { makeStamp } from '../../src/signing/stamp.js';
import { IMAGES } from '../../tools/cluster/config.js';
import { eventually, grant, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { OPERATOR_NAMESPACE, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';

const KEY = randomBytes(32);
const CFG = controllerConfig(KEY, { namespace: OPERATOR_NAMESPACE, helperImage: IMAGES.helper, helperPullPolicy: 'IfNotPresent' });
const IDLE_MS = 10 * 60_000;
const M = 2;
const K = 5;

/** One replica's code path: its own client, its own pool (refills off, so the pool stays M), its own reconciler. */
function replica(): Reconciler {
  const kube = new KubeClient(kubeConfig());
  const pool = new WarmPool(kube, { namespace: OPERATOR_NAMESPACE, image: IMAGES.helper, pullPolicy: 'IfNotPresent', size: M, idleMs: IDLE_MS }, QUIET);
  pool.used = () => undefined;
  return new Reconciler({ kube, helpers: new HelperClient(kube, CONTAINERD_PATHS), authorizer: new Authorizer(kube), config: CFG, log: QUIET, pool });
}

describe('warm helpers on the real API server: two replicas racing, and a crash right after a claim', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let node = '';
  const kube = new KubeClient(kubeConfig());
  const names = Array.from({ length: K }, (_, i) => `race-${i}`);

  const create = async (name: string, spec: ExecSessionSpec = { podName: 'target', user: 'alice', tty: true }): Promise<ExecSession> => {
    const requester = makeStamp(KEY, { namespace: ns.name, name, spec }, { username: 'alice', groups: ['developers', 'system:authenticated'] }, new Date());
    await kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace: ns.name }, spec: { ...spec, requester } }) });
    const s = await kube.getSession(ns.name, name);
    assert.ok(s);
    return s;
  };

  /** The session's helpers that are not being deleted, by its uid label. */
  const helpersOf = async (uid: string): Promise<V1Pod[]> =>
    (await kube.listPods(OPERATOR_NAMESPACE, `${LABEL_SESSION_UID}=${uid}`)).filter((p) => !p.metadata?.deletionTimestamp);

  /** `n` pool pods on the node, running. */
  const fillPool = async (n: number): Promise<V1Pod[]> => {
    for (let i = 0; i < n; i++) await kube.createPod(warmPod({ namespace: OPERATOR_NAMESPACE, nodeName: node, image: IMAGES.helper, imagePullPolicy: 'IfNotPresent', idleMs: IDLE_MS, now: new Date() }));
    const running = await eventually(`${n} pool pods running`, async () => {
      const pods = (await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR)).filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
      const running = pods.filter((p) => p.status?.containerStatuses?.some((c) => c.state?.running));
      return running.length >= n ? running : undefined;
    }, 90_000, 500);
    return running ?? [];
  };

  before(async () => {
    requireCluster();
    await installCrds();
    await kubectl(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev', '--ignore-not-found']);
    // Pool pods an earlier run left would change M.
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pods', '-l', POOL_SELECTOR, '--wait=false']);
    ns = await tempNamespace('warm');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    node = await kubectlOk(['-n', ns.name, 'get', 'pod', 'target', '-o', 'jsonpath={.spec.nodeName}']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '5m', max: '10m' } },
    }) });
  });

  after(async () => {
    const left = JSON.parse(await kubectlOk(['-n', ns.name, 'get', 'execsessions', '-o', 'json'])) as { items: ExecSession[] };
    for (const s of left.items) await kubectl(['-n', ns.name, 'patch', 'execsession', s.metadata.name ?? '', '--type=merge', '-p', '{"metadata":{"finalizers":[]}}']);
    await ns?.remove();
    for (const s of left.items) await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pods', '-l', `${LABEL_SESSION_UID}=${s.metadata.uid}`, '--wait=false']);
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pods', '-l', POOL_SELECTOR, '--wait=false']);
  });

  it(`${K} sessions, each reconciled by two replicas at once, ${M} pool pods: every session has exactly one helper, named in its status; no pod serves two`, async () => {
    const pool = await fillPool(M);
    const sessions = await Promise.all(names.map((n) => create(n)));
    const [a, b] = [replica(), replica()];
    // Both replicas reconcile every session at the same moment, until each is Starting with its helper recorded.
    await eventually('every session Starting or later', async () => {
      await Promise.allSettled(names.flatMap((n) => [a.reconcile(`${ns.name}/${n}`), b.reconcile(`${ns.name}/${n}`)]));
      const now = await Promise.all(names.map((n) => kube.getSession(ns.name, n)));
      return now.every((s) => s?.status?.helperPod) ? now : undefined;
    }, 60_000, 100);
    const byPod = new Map<string, string>();
    let warm = 0;
    for (const s of sessions) {
      const now = await kube.getSession(ns.name, s.metadata.name ?? '');
      const helpers = await helpersOf(s.metadata.uid ?? '');
      assert.equal(helpers.length, 1, `${s.metadata.name} has exactly one helper: ${helpers.map((p) => p.metadata?.name).join(' ')}`);
      const pod = helpers[0]!;
      const name = pod.metadata?.name ?? '';
      assert.equal(now?.status?.helperPod?.name, name, `${s.metadata.name}'s status names its helper`);
      assert.equal(byPod.get(name), undefined, `${name} serves ${byPod.get(name)} and ${s.metadata.name}`);
      byPod.set(name, s.metadata.name ?? '');
      if (!name.startsWith(WARM_NAME_PREFIX)) continue;
      warm++;
      // Bound to this session exactly as a cold helper: the kubelet's deadline and the helper's own.
      const last = new Date(now?.status?.extendableUntil ?? '');
      assert.equal(pod.spec?.activeDeadlineSeconds, claimedDeadlineSeconds(pod, last));
      const deadline = (await kube.exec(OPERATOR_NAMESPACE, name, 'helper', ['cat', '/tmp/execsession/deadline'], 10_000)).stdout.toString().trim();
      assert.equal(deadline, String(Date.parse(now?.status?.expiresAt ?? '') / 1000), `${name}'s serve deadline is the session's expiry`);
    }
    assert.ok(warm >= 1 && warm <= M, `warm helpers in use: ${warm} of the ${M} in the pool`);
    const unclaimed = (await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR)).filter((p) => pool.some((q) => q.metadata?.name === p.metadata?.name));
    assert.equal(unclaimed.length + warm <= M, true, 'a claimed pod never goes back to the pool');
  });

  /** A session and a pool pod claimed for it by a write of its own, as an operator that died right after would leave it. */
  async function claimWithoutOperator(name: string): Promise<{ pod: V1Pod; s: ExecSession }> {
    const [pod] = await fillPool(1);
    assert.ok(pod);
    const s = await create(name);
    const claimed = claimedPod(pod, { session: { name, namespace: ns.name, uid: s.metadata.uid ?? '' }, lastExpiry: new Date(Date.now() + 11 * 60_000), now: new Date() });
    assert.ok(claimed);
    await kube.replacePod(claimed);
    return { pod, s };
  }

  it('a claim written just before the operator died is adopted by the next reconcile: one helper, no second claim, no cold one', async () => {
    const { pod, s } = await claimWithoutOperator('adopt');
    // A new operator (its own client and pool) takes over.
    const next = replica();
    await next.reconcile(`${ns.name}/adopt`);
    await next.reconcile(`${ns.name}/adopt`);
    const now = await kube.getSession(ns.name, 'adopt');
    assert.equal(now?.status?.helperPod?.name, pod.metadata?.name);
    const helpers = await helpersOf(s.metadata.uid ?? '');
    assert.deepEqual(helpers.map((p) => p.metadata?.name), [pod.metadata?.name]);
  });

  it('a claim for a session deleted while no operator ran leaves no helper after the sweep', async () => {
    const { pod, s } = await claimWithoutOperator('gone');
    // Never reconciled, so no finalizer: the deletion is immediate.
    await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'gone']);
    const controller = new Controller({ kc: kubeConfig(), kube, config: CFG, leader: undefined, concurrency: 1, log: QUIET, metrics: new OperatorMetrics() });
    assert.ok(await controller.sweep() >= 1);
    await eventually('the claimed helper gone', async () => (await helpersOf(s.metadata.uid ?? '')).length === 0, 30_000);
    assert.ok((await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR)).every((p) => p.metadata?.name !== pod.metadata?.name));
  });
});
