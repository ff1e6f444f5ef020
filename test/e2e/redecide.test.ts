/**
 * Waiting sessions are decided again when what decides them changes, not on a
 * timer (ADR 35): alice's session waits for an approval; deleting the
 * RoleBinding that lets her exec into the pod ends it Denied (RbacDenied), and
 * deleting the only policy that allows it ends another Denied (NoPolicy). The
 * bound, 10 s, is generous for a watch event and a reconcile, yet well below the
 * 30 s after which the operator used to look again at a waiting session: each
 * change is made within a second or two of the session's last decision, so
 * polling would fail this.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { installCrds, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const BOUND_MS = 10_000;

describe('waiting sessions decided again on a change', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let alice: string;

  const policy = (): object => ({
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'needs-approval', namespace: ns.name },
    spec: {
      subjects: [{ kind: 'Group', name: 'developers' }], targets: { podSelector: { matchLabels: { app: 'target' } } }, users: { allowedNames: ['*'] },
      approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], timeout: '1h' },
    },
  });

  /** alice's session, once it waits for its approval; returns when it was first seen waiting. */
  async function waiting(name: string): Promise<number> {
    await createSession(ns.name, name, { podName: 'target', user: 'alice', ttl: '10m' }, alice);
    return (await waitForPhase(ns.name, name, ['WaitingForApproval'])).seenAt;
  }

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('redecide');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(policy()) });
    alice = await userKubeconfig('alice', ['developers']);
    operator = suiteOperator();
    await operator.start();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it('ends a waiting session Denied (RbacDenied) soon after the RoleBinding letting its subject exec is deleted', async () => {
    await waiting('rbac');
    const t0 = Date.now();
    await kubectlOk(['-n', ns.name, 'delete', 'rolebinding', 'exec']);
    const { session } = await waitForPhase(ns.name, 'rbac', ['Denied'], BOUND_MS);
    assert.match(session.status?.message ?? '', /alice may not create pods\/exec on pod .*\/target \(RBAC\)/);
    assert.ok(Date.now() - t0 < BOUND_MS);
    await kubectlOk(['-n', ns.name, 'create', 'rolebinding', 'exec', '--role=exec', '--user=alice']);
  });

  it('ends a waiting session Denied (NoPolicy) soon after the only policy allowing it is deleted', async () => {
    await waiting('policy');
    await kubectlOk(['-n', ns.name, 'delete', 'execpolicy', 'needs-approval']);
    const { session } = await waitForPhase(ns.name, 'policy', ['Denied'], BOUND_MS);
    const authorized = session.status?.conditions?.find((c) => c.type === 'Authorized');
    assert.equal(authorized?.reason, 'NoPolicy', session.status?.message);
    // Nothing ran: it never had a helper.
    assert.equal(session.status?.helperPod, undefined);
    assert.equal((await kubectl(['-n', ns.name, 'get', 'execsession', 'policy'])).code, 0);
  });
});
