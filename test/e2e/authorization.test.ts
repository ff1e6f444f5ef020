/**
 * Both RBAC and policy must pass, at admission and in the controller: alice with
 * pods/exec and the developers policy gets a Ready session; mallory without
 * pods/exec is refused naming the permission; root and the root group are refused
 * naming the rule; a ttl above the maximum is refused naming the limit; a server
 * dry run reports the decision and creates nothing. Under a policy with
 * ttl {default: 5m, max: 10m} (issue 12), a session without a ttl gets exactly 5
 * minutes and one asking for 20m is refused naming 10m.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OperatorProcess, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

describe('authorization: RBAC and policy', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  /** A namespace under issue 12's policy: ttl {default: 5m, max: 10m}. */
  let ttlNs: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;
  let mallory: string;

  /** Creates a session as `who`; returns kubectl's result (never throws). */
  const create = (who: string, name: string, spec: object, extra: string[] = [], namespace = ns.name): ReturnType<typeof kubectl> =>
    kubectl(['create', ...extra, '-f', '-'], { kubeconfig: who, input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec }) });

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('authz');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    // Everyone here may create ExecSessions; only alice may exec (RBAC), and policy covers group developers.
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice', 'mallory']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `developers-${ns.name}` },
      spec: {
        subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ns.name] },
        users: { allowedNames: ['*'], allowRoot: false, allowRootGroup: false }, ttl: { default: '15m', max: '1h' },
      },
    }) });
    ttlNs = await tempNamespace('ttl');
    await runTargetPod('target', ttlNs.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ttlNs.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ttlNs.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `ttl-default-${ttlNs.name}` },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ttlNs.name] }, users: { allowedNames: ['*'] }, ttl: { default: '5m', max: '10m' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    mallory = await userKubeconfig('mallory');
    operator = new OperatorProcess();
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `developers-${ns.name}`]);
    if (ttlNs) await kubectl(['delete', 'clusterexecpolicy', `ttl-default-${ttlNs.name}`]);
    await ns?.remove();
    await ttlNs?.remove();
  });

  it('gives alice (developers, pods/exec) a Ready session', async () => {
    await createSession(ns.name, 'alice-ok', { podName: 'target', user: 'alice', ttl: '30m' }, alice);
    const { session } = await waitForPhase(ns.name, 'alice-ok', ['Ready']);
    assert.equal(session.spec.requester?.username, 'alice');
    assert.equal(session.status?.user?.uid, 1000);
  });

  it('refuses mallory at admission, naming the missing permission', async () => {
    const r = await create(mallory, 'mallory', { podName: 'target', user: 'alice' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /RbacDenied: mallory may not create pods\/exec on pod .*\/target/);
    assert.match(r.stderr, /ask for a Role granting "create" on "pods\/exec"/);
  });

  for (const [user, reason] of [['root', 'RootUserDenied'], ['0', 'RootUserDenied'], ['alice:0', 'RootGroupDenied']] as const) {
    it(`refuses alice as "${user}" with the rule's name`, async () => {
      const r = await create(alice, `as-${user.replace(':', '-')}`, { podName: 'target', user });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`${reason}: ClusterExecPolicy "developers-${ns.name}"`));
    });
  }

  it('refuses a ttl above the maximum, naming the limit', async () => {
    const r = await create(alice, 'too-long', { podName: 'target', user: 'alice', ttl: '2h' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TtlTooLong: .*1h/);
  });

  it("gives a session without a ttl the policy's ttl.default: exactly 5 minutes under {default: 5m, max: 10m} (issue 12)", async () => {
    await createSession(ttlNs.name, 'no-ttl', { podName: 'target', user: 'alice' }, alice);
    const { session } = await waitForPhase(ttlNs.name, 'no-ttl', ['Ready']);
    assert.equal(session.spec.ttl, undefined, 'neither the CRD nor anyone else filled in a ttl');
    const { startedAt, expiresAt, extendableUntil } = session.status ?? {};
    assert.equal(Date.parse(expiresAt ?? '') - Date.parse(startedAt ?? ''), 5 * 60_000, `startedAt ${startedAt}, expiresAt ${expiresAt}`);
    assert.equal(Date.parse(extendableUntil ?? '') - Date.parse(startedAt ?? ''), 10 * 60_000, `extendableUntil ${extendableUntil}: ttl.max from the start`);
  });

  it('refuses a ttl of 20m under ttl.max 10m, naming 10m (issue 12)', async () => {
    const r = await create(alice, 'twenty', { podName: 'target', user: 'alice', ttl: '20m' }, [], ttlNs.name);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TtlTooLong: ClusterExecPolicy "ttl-default-\S+" allows sessions of at most 10m \(ttl\.max\), and this one asks for 20m; set spec\.ttl to 10m or less/);
    assert.notEqual((await kubectl(['-n', ttlNs.name, 'get', 'execsession', 'twenty'])).code, 0, 'nothing was created');
  });

  it('marks an invalid policy in its status, saying what is wrong', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'broken', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '2h', max: '1h' } },
    }) });
    const status = await eventually('the policy status', async () => {
      const s = JSON.parse(await kubectlOk(['-n', ns.name, 'get', 'execpolicy', 'broken', '-o', 'jsonpath={.status}']) || '{}') as { valid?: boolean; message?: string };
      return s.valid === false ? s : undefined;
    });
    assert.match(status?.message ?? '', /ttl/);
    const valid = await kubectlOk(['get', 'clusterexecpolicy', `developers-${ns.name}`, '-o', 'jsonpath={.status.valid}']);
    assert.equal(valid, 'true');
  });

  it('reports the decision on a server dry run and creates nothing', async () => {
    const ok = await create(alice, 'dry-ok', { podName: 'target', user: 'alice' }, ['--dry-run=server']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`allowed by ClusterExecPolicy developers-${ns.name}`));
    const no = await create(alice, 'dry-root', { podName: 'target', user: 'root' }, ['--dry-run=server']);
    assert.match(no.stderr, /RootUserDenied/);
    for (const name of ['dry-ok', 'dry-root']) assert.notEqual((await kubectl(['-n', ns.name, 'get', 'execsession', name])).code, 0);
  });
});
