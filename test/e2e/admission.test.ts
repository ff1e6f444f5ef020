/**
 * The admission webhook on the real API server: the requester stamp comes from
 * authentication, never from the object; bad specs and changes to the target are
 * refused at admission; a session that bypassed the webhook is refused by the
 * controller; and with the webhook down, nothing is created (fail closed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../support/cluster.js';
import { OperatorProcess, installCrds } from '../support/operator.js';
import { runTargetPod } from '../support/pods.js';
import { createSession, getSession, waitForPhase } from '../support/sessions.js';

describe('admission webhook', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('admission');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    // alice may create sessions and exec here, and a policy lets developers become non-root users.
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'update', 'patch'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'developers', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    operator = new OperatorProcess();
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await ns?.remove();
  });

  it('stamps the authenticated requester over an identity the creator wrote', async () => {
    const forged = { podName: 'target', user: 'alice', tty: false, command: ['id'], requester: { username: 'carol', groups: ['approvers'] } };
    await createSession(ns.name, 'forged', forged as never, alice);
    const s = await getSession(ns.name, 'forged');
    assert.equal(s.spec.requester?.username, 'alice');
    assert.deepEqual(s.spec.requester?.groups?.filter((g) => g !== 'system:authenticated'), ['developers']);
    assert.ok(s.spec.requester?.signature);
    const { session } = await waitForPhase(ns.name, 'forged', ['Succeeded']);
    assert.match(session.status?.result?.stdout ?? '', /uid=1000\(alice\)/);
  });

  it('refuses a malformed spec at admission, saying what is wrong', async () => {
    // Both values pass the CRD's schema; only the webhook knows they cannot work.
    const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'bad', namespace: ns.name }, spec: { podName: 'target', user: '99999999999', tty: false } };
    const r = await kubectl(['create', '-f', '-'], { input: JSON.stringify(body), kubeconfig: alice });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.user: .*<name\|uid>\[:<group\|gid>\]/);
    assert.match(r.stderr, /tty: false runs one command/);
  });

  it('refuses changes to the target or the stamp', async () => {
    const user = await kubectl(['-n', ns.name, 'patch', 'execsession', 'forged', '--type=merge', '-p', '{"spec":{"user":"root"}}'], { kubeconfig: alice });
    assert.match(user.stderr, /spec\.user cannot be changed once the session exists/);
    const stamp = await kubectl(['-n', ns.name, 'patch', 'execsession', 'forged', '--type=merge', '-p', '{"spec":{"requester":{"username":"carol"}}}'], { kubeconfig: alice });
    assert.match(stamp.stderr, /spec\.requester is stamped by the admission webhook/);
  });

  it('refuses, in the controller, a session created while the webhook was absent', async () => {
    await kubectlOk(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev']);
    try {
      await createSession(ns.name, 'unsigned', { podName: 'target', user: 'alice', tty: false, command: ['id'] });
      const { session } = await waitForPhase(ns.name, 'unsigned', ['Denied']);
      assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Unsigned');
      assert.match(session.status?.message ?? '', /no requester stamp from the execsession admission webhook/);
      assert.equal(session.status?.helperPod, undefined, 'no helper was ever created');
      const events = await kubectlOk(['-n', ns.name, 'get', 'events', '--field-selector', 'involvedObject.name=unsigned', '-o', 'jsonpath={.items[*].reason}']);
      assert.match(events, /Unsigned/);
    } finally {
      // A restarted operator registers its webhook again.
      await operator.stop();
      operator = new OperatorProcess();
      await operator.start();
    }
  });

  it('fails closed: with the webhook down, no session is created', async () => {
    await operator.stop();
    try {
      const r = await kubectl(['create', '-f', '-'], {
        kubeconfig: alice,
        input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'while-down', namespace: ns.name }, spec: { podName: 'target', user: 'alice' } }),
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /failed calling webhook "stamp\.execsession\.dev"/);
      assert.notEqual((await kubectl(['-n', ns.name, 'get', 'execsession', 'while-down'])).code, 0);
    } finally {
      operator = new OperatorProcess();
      await operator.start();
    }
  });
});
