/**
 * Two replicas never both act: only the Lease holder runs the controller, and a
 * standby takes over after the holder dies and its Lease lapses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { OPERATOR_NAMESPACE, OperatorProcess, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

describe('leader election', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  const a = new OperatorProcess(['--leader-identity', 'replica-a', '--lease-duration', '4s']);
  const b = new OperatorProcess(['--leader-identity', 'replica-b', '--lease-duration', '4s']);

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('leader');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
  });

  after(async () => {
    await a.stop();
    await b.stop();
    await ns?.remove();
  });

  it('lets only the Lease holder act, and hands over when it dies', async () => {
    await a.start();
    await b.start({ waitForController: false });
    const holder = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'lease', 'execsession-operator', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.equal(holder, 'replica-a');
    await createSession(ns.name, 'one', { podName: 'target', user: 'alice', tty: false, command: ['id'] });
    await waitForPhase(ns.name, 'one', ['Succeeded']);
    assert.ok(!b.log(200).includes('"controller started"'), 'the standby never started its controller');

    await a.kill9();
    await b.waitForController(20_000);
    assert.equal(await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'lease', 'execsession-operator', '-o', 'jsonpath={.spec.holderIdentity}']), 'replica-b');
    await createSession(ns.name, 'two', { podName: 'target', user: 'bob', tty: false, command: ['id'] });
    const { session } = await waitForPhase(ns.name, 'two', ['Succeeded']);
    assert.match(session.status?.result?.stdout ?? '', /uid=1001\(bob\)/);
  });
});
