/**
 * The admission webhook on the real API server: the requester stamp comes from
 * authentication, never from the object; the webhook's port answers only
 * kube-apiserver's client certificate; bad specs and changes to the target are
 * refused at admission; a session that bypassed the webhook, or carries a stamp
 * copied from an earlier one, is refused by the controller; and with the webhook
 * down, nothing is created (fail closed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST_IP } from '../../tools/cluster/config.js';
import { clusterPair, mintClient } from '../support/cluster-certs.js';
import { grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { httpText, rawExchange } from '../support/raw-tls.js';
import { OperatorProcess, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
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

  it('signs no stamp for a review posted straight to its port: it answers kube-apiserver\'s client certificate only', async () => {
    const port = operator.webhookPort;
    assert.ok(port > 0, operator.log());
    // What anyone who reaches the port could post: a review claiming system:masters.
    const review = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: {
        uid: 'e2e-forged-review', operation: 'CREATE', namespace: ns.name, name: 'forged-review',
        userInfo: { username: 'anyone', groups: ['system:masters', 'system:authenticated'] },
        object: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'forged-review', namespace: ns.name }, spec: { podName: 'target', user: 'root' } },
      },
    });
    const post = httpText('POST', '/mutate', { 'Content-Type': 'application/json' }, review);
    const at = { host: HOST_IP, port };

    const anonymous = await rawExchange(at, post);
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.match(anonymous.text, /no client certificate: the execsession admission webhook answers kube-apiserver only/);
    assert.doesNotMatch(anonymous.text, /"patch"|signature/);

    // A user certificate kube-apiserver itself would accept is not kube-apiserver.
    const user = await rawExchange({ ...at, client: await mintClient('ca', 'anyone', ['system:masters']) }, post);
    assert.equal(user.status, 401, user.text);
    assert.match(user.text, /not signed by a trusted CA/);

    // Signed by the requestheader CA, but not a name kube-apiserver's certificate has.
    const intruder = await rawExchange({ ...at, client: await mintClient('front-proxy-ca', 'intruder') }, post);
    assert.equal(intruder.status, 403, intruder.text);
    assert.match(intruder.text, /CN \\"intruder\\" is not one of the allowed names \(front-proxy-client\)/);

    // The certificate kube-apiserver presents (the local cluster's admission configuration) is answered.
    const apiserver = await rawExchange({ ...at, client: clusterPair('front-proxy-client') }, post);
    assert.equal(apiserver.status, 200, apiserver.text);
    assert.match(apiserver.text, /"uid":"e2e-forged-review"/);

    const health = await rawExchange(at, httpText('GET', '/healthz'));
    assert.equal(health.status, 200, 'the readiness probe needs no certificate');
    assert.match(operator.log(200), /"webhook request refused"/);
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

  it('refuses, in the controller, a stamp copied onto a re-created session (finding 4)', async () => {
    await createSession(ns.name, 'replayed', { podName: 'target', user: 'alice', tty: false, command: ['id'] }, alice);
    await waitForPhase(ns.name, 'replayed', ['Succeeded']);
    const first = await getSession(ns.name, 'replayed');
    const stampedAt = Date.parse(first.spec.requester?.stampedAt ?? '');
    assert.ok(Number.isFinite(stampedAt), JSON.stringify(first.spec.requester));
    // The operator removes its finalizer once the session is cleaned up.
    await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'replayed', '--wait=true', '--timeout=60s']);
    // Past the window in which a stamp may precede its session's creation (STAMP_MAX_AGE_MS, 30 s).
    await sleep(Math.max(0, stampedAt + 33_000 - Date.now()));
    await kubectlOk(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev']);
    try {
      // The same namespace, name and target, with alice's signed stamp: only the time gives it away.
      const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'replayed', namespace: ns.name }, spec: first.spec };
      await kubectlOk(['create', '-f', '-'], { input: JSON.stringify(body) });
      const { session } = await waitForPhase(ns.name, 'replayed', ['Denied']);
      assert.deepEqual(session.spec.requester, first.spec.requester, 'the copied stamp was stored as it was');
      assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'StampReplayed');
      assert.match(session.status?.message ?? '', /^the requester stamp was issued at \S+, \d+s before the session was created .*create it again through the API server, with the execsession admission webhook in place/);
      assert.equal(session.status?.helperPod, undefined, 'no helper was ever created');
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
