/**
 * Failures that come from the cluster rather than the spec, shown with their
 * cause: a helper pod refused at admission, a node whose runtime state is not
 * where the operator looks, and ended sessions removed after the retention.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { OperatorProcess, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

describe('failures shown with their cause', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let helperNs: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess | undefined;

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('failures');
    helperNs = await tempNamespace('helpers');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
  });

  after(async () => {
    await operator?.stop();
    await ns?.remove();
    await helperNs?.remove();
  });

  it('shows the admission error when the helper pod is refused', async () => {
    // A quota of zero pods refuses the helper at admission, as a policy engine would.
    await kubectlOk(['-n', helperNs.name, 'create', 'quota', 'no-pods', '--hard=pods=0']);
    operator = new OperatorProcess(['--namespace', helperNs.name]);
    await operator.start();
    try {
      await createSession(ns.name, 'refused', { podName: 'target', user: 'alice', tty: false, command: ['id'] });
      const { session } = await waitForPhase(ns.name, 'refused', ['Failed']);
      assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'HelperRejected');
      assert.match(session.status?.message ?? '', /the helper pod was rejected: .*exceeded quota: no-pods/);
      assert.match(session.status?.message ?? '', new RegExp(`namespace ${helperNs.name}`));
    } finally {
      await operator.stop();
      await kubectlOk(['-n', helperNs.name, 'delete', 'quota', 'no-pods']);
    }
  });

  it('says where it looked when the runtime state is not found', async () => {
    operator = new OperatorProcess(['--namespace', helperNs.name, '--backend', 'runtime', '--runtime-config-path', '/run/nonexistent/{id}/config.json', '--retention', '3s']);
    await operator.start();
    await createSession(ns.name, 'no-runtime', { podName: 'target', user: 'alice', tty: false, command: ['id'] });
    const { session } = await waitForPhase(ns.name, 'no-runtime', ['Failed']);
    assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'RuntimeNotFound');
    assert.match(session.status?.message ?? '', /no OCI bundle .*--runtime-config-path and --runtime-root/);
    await eventually('the helper pod to be deleted', async () =>
      (await kubectlOk(['-n', helperNs.name, 'get', 'pods', '-o', 'name'])).trim() === '', 20_000);
  });

  it('deletes ended sessions after the retention period', async () => {
    // The operator from the previous test keeps ended sessions for 3 s.
    await eventually('the ended session to be deleted', async () => (await kubectl(['-n', ns.name, 'get', 'execsession', 'no-runtime'])).code !== 0, 20_000);
  });
});
