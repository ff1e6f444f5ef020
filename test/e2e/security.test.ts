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
import { grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../support/cluster.js';
import { OperatorProcess, installCrds } from '../support/operator.js';
import { runTargetPod } from '../support/pods.js';

/** An ExecSession manifest, as kubectl create takes it. */
function sessionManifest(namespace: string, name: string, spec: object): string {
  return JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec });
}

describe('security', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;

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
    alice = await userKubeconfig('alice', ['developers']);
    operator = new OperatorProcess();
    await operator.start();
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
});
