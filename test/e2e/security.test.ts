/**
 * What the operator refuses whatever RBAC and policies say, on the real cluster:
 * user names that are shell or path syntax, a rewritten spec.reason, a status
 * rewritten by someone else (a uid 0 written into status.user runs nothing as
 * root), sessions into the operator's own namespace and its helper pods, and
 * commands or environments too large to exec (refused at admission, or the
 * session fails with a reason instead of starting forever).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../src/k8s/kube.js';
import { AttachRefused, attach } from '../support/attach.js';
import { grant, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OPERATOR_NAMESPACE, OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod, targetPod } from '../../tools/support/pods.js';
import { containerProcesses, createSession, getSession, waitForPhase } from '../support/sessions.js';

/** An ExecSession manifest, as kubectl create takes it. */
function sessionManifest(namespace: string, name: string, spec: object): string {
  return JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec });
}

describe('security', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;
  let eve: string;

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('security');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'update', 'patch'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    // Developers may become any non-root user here (allowRoot is false by default).
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'developers', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } },
    }) });
    // eve may write ExecSession status here, and nothing else: as a controller or a careless binding would.
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'status-writer', namespace: ns.name }, rules: [{ apiGroups: ['execsession.dev'], resources: ['execsessions/status'], verbs: ['get', 'patch', 'update'] }] },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'status-writer', namespace: ns.name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'status-writer' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'eve' }],
        },
      ],
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    eve = await userKubeconfig('eve');
    operator = new OperatorProcess();
    await operator.start();
    await waitForApi();
    // kubectl create role checks resources against discovery, which the API joins only once the operator runs.
    await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
  });

  after(async () => {
    await operator?.stop();
    await ns?.remove();
  });

  it('refuses user names with shell metacharacters or a path at admission, naming the field', async () => {
    for (const [i, user] of ['alice;id', '$(id)', '`id`', '../etc/passwd', 'alice:ops|id'].entries()) {
      const name = `bad-user-${i}`;
      const r = await kubectl(['create', '-f', '-'], { input: sessionManifest(ns.name, name, { podName: 'target', user, tty: false, command: ['id'] }), kubeconfig: alice });
      assert.notEqual(r.code, 0, `${user} was admitted`);
      assert.match(r.stderr, /spec\.user/, user);
      assert.notEqual((await kubectl(['-n', ns.name, 'get', 'execsession', name])).code, 0, `${user}: the session exists`);
    }
  });

  it('keeps spec.reason as written: no update, patch or removal', async () => {
    await kubectlOk(['create', '-f', '-'], { input: sessionManifest(ns.name, 'reasoned', { podName: 'target', user: 'alice', reason: 'INC-1 stuck queue' }), kubeconfig: alice });
    for (const patch of ['{"spec":{"reason":"nothing to see here"}}', '{"spec":{"reason":null}}']) {
      const r = await kubectl(['-n', ns.name, 'patch', 'execsession', 'reasoned', '--type=merge', '-p', patch], { kubeconfig: alice });
      assert.notEqual(r.code, 0, patch);
      assert.match(r.stderr, /spec\.reason is kept for the record and cannot be changed/, patch);
    }
    // A whole-object update (kubectl replace, a PUT) goes through the same check.
    const s = JSON.parse(await kubectlOk(['-n', ns.name, 'get', 'execsession', 'reasoned', '-o', 'json'])) as { spec: { reason?: string } };
    s.spec.reason = 'rewritten';
    const put = await kubectl(['replace', '-f', '-'], { input: JSON.stringify(s), kubeconfig: alice });
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /spec\.reason is kept for the record/);
    assert.equal(await kubectlOk(['-n', ns.name, 'get', 'execsession', 'reasoned', '-o', 'jsonpath={.spec.reason}']), 'INC-1 stuck queue');
    await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'reasoned', '--wait=false']);
  });

  it('acts on nothing someone else wrote into status: uid 0 in status.user is refused, and the session ends StatusTampered', async () => {
    await createSession(ns.name, 'as-alice', { podName: 'target', user: 'alice', ttl: '30m' }, alice);
    const { session } = await waitForPhase(ns.name, 'as-alice', ['Ready']);
    assert.equal(session.status?.user?.uid, 1000);
    assert.ok(session.status?.seal, 'a Ready session carries the operator\'s seal');
    // The attack: eve, who may patch execsessions/status, makes alice's session root.
    await new KubeClient(kubeConfig(eve)).patchSessionStatus(ns.name, 'as-alice', {
      user: { uid: 0, gid: 0, groups: [0], name: 'root', home: '/root', shell: '/bin/sh', root: true, rootGroup: true },
    });
    const r = await attach(alice, ns.name, 'as-alice', { command: ['id'], tty: false, stdin: false }).then(async (a) => {
      await a.done;
      return `attach ran: ${a.stdout()}`;
    }, (e: unknown) => e);
    assert.ok(r instanceof AttachRefused, String(r));
    // Refused by attach itself (403), or already ended by the controller (410, its message saying why).
    assert.ok([403, 410].includes(r.code), r.body);
    assert.match(r.body, /StatusTampered|status\.seal does not match/);
    const { session: ended } = await waitForPhase(ns.name, 'as-alice', ['Failed']);
    assert.equal(ended.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'StatusTampered');
    assert.match(ended.status?.message ?? '', /written by someone other than the execsession operator/);
    const events = await kubectlOk(['-n', ns.name, 'get', 'events', '--field-selector', 'involvedObject.name=as-alice', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /StatusTampered/);
    // Nothing runs as root in the target (its own processes run as uid 1001).
    assert.deepEqual((await containerProcesses(ns.name, 'target')).filter((p) => /^\d+\s+root\s/.test(p)), []);
  });

  it('refuses sessions into the operator\'s namespace (a live helper pod, as root, under a policy that allows anything), at admission and in the controller', async () => {
    await createSession(ns.name, 'live', { podName: 'target', user: 'alice', ttl: '30m' }, alice);
    await waitForPhase(ns.name, 'live', ['Ready']);
    const helper = (await getSession(ns.name, 'live')).status?.helperPod?.name ?? '';
    assert.match(helper, /^execsession-/);
    // The admin, whom the suites' ClusterExecPolicy e2e-admin lets become anyone (root included) anywhere.
    const intoHelper = sessionManifest(OPERATOR_NAMESPACE, 'into-helper', { podName: helper, user: 'root', tty: false, command: ['cat', '/host/etc/shadow'] });
    const r = await kubectl(['create', '-f', '-'], { input: intoHelper });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`OperatorNamespace: namespace ${OPERATOR_NAMESPACE} is the execsession operator's own`));
    assert.notEqual((await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'execsession', 'into-helper'])).code, 0);
    // Without the webhook (removed, or an older operator admitted it), the controller refuses it before anything else.
    await kubectlOk(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev']);
    try {
      await kubectlOk(['create', '-f', '-'], { input: intoHelper });
      const { session } = await waitForPhase(OPERATOR_NAMESPACE, 'into-helper', ['Denied']);
      assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'OperatorNamespace');
      assert.match(session.status?.message ?? '', /is the execsession operator's own/);
      assert.equal(session.status?.result, undefined, 'nothing ran');
      assert.notEqual((await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pod', `execsession-${session.metadata.uid}`])).code, 0, 'no helper pod was made for it');
    } finally {
      // A restarted operator registers its webhook again.
      await operator.stop();
      operator = new OperatorProcess();
      await operator.start();
      await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'execsession', 'into-helper', '--wait=false']);
    }
  });

  it('refuses a command too large to exec at admission, with the limit', async () => {
    // 20 arguments of 8000 bytes: each within the CRD's maxLength, 160 kB in all.
    const command = Array.from({ length: 20 }, () => 'x'.repeat(8000));
    const r = await kubectl(['create', '-f', '-'], { input: sessionManifest(ns.name, 'huge-command', { podName: 'target', user: 'alice', tty: false, command }), kubeconfig: alice });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.command: 160020 bytes in all, the limit is 65536/);
    assert.notEqual((await kubectl(['-n', ns.name, 'get', 'execsession', 'huge-command'])).code, 0);
  });

  it('fails, with a reason, a session into a target whose environment is too large to exec, instead of starting for ever', async () => {
    // 140 kB of environment in two variables: each below the kernel's 128 KiB per string, so the target itself starts.
    const pod = targetPod('big-env', ns.name) as { spec: { containers: { env?: { name: string; value: string }[] }[] } };
    pod.spec.containers[0]!.env = [{ name: 'BIG_A', value: 'a'.repeat(70_000) }, { name: 'BIG_B', value: 'b'.repeat(70_000) }];
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await kubectlOk(['-n', ns.name, 'wait', '--for=condition=Ready', 'pod/big-env', '--timeout=90s'], { timeoutMs: 100_000 });
    const sessions: [string, { tty: boolean; command?: string[] }][] = [['big-env-run', { tty: false, command: ['id'] }], ['big-env-shell', { tty: true }]];
    for (const [name, spec] of sessions) {
      const started = Date.now();
      await createSession(ns.name, name, { podName: 'big-env', user: 'alice', ...spec }, alice);
      const { session } = await waitForPhase(ns.name, name, ['Failed'], 45_000);
      assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ArgumentListTooLong', session.status?.message);
      assert.match(session.status?.message ?? '', /argument list too long", E2BIG\): the container's environment takes 14\d{4} bytes/);
      assert.equal(session.status?.result, undefined, 'nothing ran');
      assert.ok(Date.now() - started < 30_000, `${name} took ${Date.now() - started} ms to fail`);
    }
  });
});
