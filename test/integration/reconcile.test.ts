/**
 * The reconcile tier's second set (issue 12, item 5): the same Reconciler the
 * unit tier drives over fakes, here over the real local API server, the real
 * helper pod and the real authorizer (SubjectAccessReview against the cluster's
 * RBAC), with no operator process and no webhook: the test stamps the session
 * itself, calls reconcile('ns/name') step by step, and moves only the clock.
 */
import { QUIET, controllerConfig } from '../support/controller.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ExecSession, ExecSessionSpec } from '../../src/api/types.js';
import { Authorizer } from '../../src/authz/authorizer.js';
import { FINALIZER } from '../../src/controller/ending.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { CONTAINERD_PATHS, HelperClient } from '../../src/exec/helper-client.js';
import { KubeClient } from '../../src/k8s/kube.js';
import { sealProblem } from '../../src/signing/seal.js';
import { makeStamp } from '../../src/signing/stamp.js';
import { IMAGES } from '../../tools/cluster/config.js';
import { eventually, grant, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { OPERATOR_NAMESPACE, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';

const KEY = randomBytes(32);
const CFG = controllerConfig(KEY, { namespace: OPERATOR_NAMESPACE, helperImage: IMAGES.helper, outputLimit: 1 << 20 });

describe('the Reconciler over the real API server, without the operator process', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let offsetMs = 0;
  const kube = new KubeClient(kubeConfig());
  const reconciler = new Reconciler({ kube, helpers: new HelperClient(kube, CONTAINERD_PATHS), authorizer: new Authorizer(kube), config: CFG, log: QUIET, clock: () => new Date(Date.now() + offsetMs) });

  const session = async (name: string): Promise<ExecSession> => {
    const s = await kube.getSession(ns.name, name);
    assert.ok(s, `session ${name} exists`);
    return s;
  };

  /** Creates a session as the webhook would have stamped it for alice (developers). */
  const create = async (name: string, spec: ExecSessionSpec): Promise<void> => {
    const requester = makeStamp(KEY, { namespace: ns.name, name, spec }, { username: 'alice', groups: ['developers', 'system:authenticated'] }, new Date());
    await kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace: ns.name }, spec: { ...spec, requester } }) });
  };

  before(async () => {
    requireCluster();
    await installCrds();
    // No operator runs here: webhook configurations an earlier one left would refuse the create.
    await kubectl(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev', '--ignore-not-found']);
    ns = await tempNamespace('reconcile');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '5m', max: '10m' } },
    }) });
  });

  after(async () => {
    // Nothing else ends them: take the finalizers off, then the namespace.
    for (const name of ['live']) await kubectl(['-n', ns.name, 'patch', 'execsession', name, '--type=merge', '-p', '{"metadata":{"finalizers":[]}}']);
    await ns?.remove();
  });

  const KEY_OF = (): string => `${ns.name}/live`;
  let helper = '';

  it('starts: the finalizer, the policy\'s ttl.default recorded and sealed, then the real helper pod made from it', async () => {
    await create('live', { podName: 'target', user: 'alice', tty: true });
    const first = await reconciler.reconcile(KEY_OF());
    const s = await session('live');
    assert.deepEqual(s.metadata.finalizers, [FINALIZER]);
    assert.equal(s.status?.phase, 'Starting', s.status?.message);
    assert.equal(Date.parse(s.status?.expiresAt ?? '') - Date.parse(s.status?.startedAt ?? ''), 5 * 60_000);
    assert.equal(sealProblem(KEY, s), undefined);
    assert.ok((first.requeueAfterMs ?? Infinity) <= 1000, JSON.stringify(first));
    helper = s.status?.helperPod?.name ?? '';
    assert.equal((await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pod', helper, '-o', 'jsonpath={.metadata.name}'])), helper);
  });

  it('goes Ready as alice once the kubelet runs the helper and the reconciler inspects the target through it', async () => {
    const s = await eventually('Ready', async () => {
      await reconciler.reconcile(KEY_OF());
      const now = await session('live');
      if (now.status?.phase === 'Failed') throw new Error(now.status.message);
      return now.status?.phase === 'Ready' ? now : undefined;
    }, 90_000, 500);
    assert.ok(s);
    assert.equal(s.status?.user?.uid, 1000);
    assert.equal(s.status?.conditions?.find((c) => c.type === 'Authorized')?.status, 'True');
  });

  it('changes nothing it recorded when reconciled again', async () => {
    const before = await session('live');
    await reconciler.reconcile(KEY_OF());
    const again = await session('live');
    assert.deepEqual([again.status?.startedAt, again.status?.expiresAt, again.status?.phase], [before.status?.startedAt, before.status?.expiresAt, 'Ready']);
  });

  it('ends Expired (TtlElapsed) when the clock reaches expiresAt, deleting the real helper pod', async () => {
    offsetMs = Date.parse((await session('live')).status?.expiresAt ?? '') - Date.now();
    // Status first; the clean-up is queued behind, in a reconcile of its own (ADR 36), run here as the queue would.
    assert.deepEqual(await reconciler.reconcile(KEY_OF()), { requeueAfterMs: 0 });
    const s = await session('live');
    assert.equal(s.status?.phase, 'Expired');
    assert.equal(s.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'TtlElapsed');
    await reconciler.reconcile(KEY_OF());
    await eventually('the helper pod to be gone or going', async () => {
      const r = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pod', helper, '-o', 'jsonpath={.metadata.deletionTimestamp}']);
      return r.code !== 0 || r.stdout !== '';
    }, 30_000);
  });

  it('takes its finalizer off a deleted session, which then goes', async () => {
    await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'live', '--wait=false']);
    await reconciler.reconcile(KEY_OF());
    await eventually('the session to be gone', async () => (await kube.getSession(ns.name, 'live')) === undefined, 15_000);
  });
});
