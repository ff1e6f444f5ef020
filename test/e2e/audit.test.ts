/**
 * The durable record kube-apiserver keeps: the local cluster's API server writes
 * an audit log (tools/cluster/components.ts, Metadata level for ExecSessions),
 * and the webhook's audit annotations for a created session, and for one it
 * refused, are found there, prefixed with the webhook's name. The session's
 * Events name the replica that reported them (reportingInstance).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AUDIT_LOG } from '../../tools/cluster/components.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OPERATOR_MODE, suiteOperator } from '../../tools/support/installed.js';
import { installCrds, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const PREFIX = 'validate.execsession.dev/';

/** An audit event as kube-apiserver writes it (audit.k8s.io/v1, JSON lines). */
interface AuditEvent {
  verb: string;
  stage: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

/** The ResponseComplete events of creating execsession NAMESPACE/NAME. */
function creates(namespace: string, name: string): AuditEvent[] {
  if (!existsSync(AUDIT_LOG)) return [];
  return readFileSync(AUDIT_LOG, 'utf8').split('\n').filter((l) => l.includes(`"${name}"`)).flatMap((l) => {
    try {
      return [JSON.parse(l) as AuditEvent];
    } catch {
      return [];
    }
  }).filter((e) => e.verb === 'create' && e.stage === 'ResponseComplete' && e.objectRef?.resource === 'execsessions' && e.objectRef.namespace === namespace && e.objectRef.name === name);
}

describe('audit', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let alice: string;

  before(async () => {
    requireCluster();
    assert.ok(existsSync(AUDIT_LOG), `kube-apiserver writes ${AUDIT_LOG}; a cluster started before the audit log was added needs npm run cluster:down && npm run cluster:up`);
    await installCrds();
    ns = await tempNamespace('audit');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'developers', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['alice'] }, ttl: { default: '7m', max: '1h' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    operator = suiteOperator();
    await operator.start();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it('kube-apiserver\'s audit log holds the webhook\'s annotations for a created session', async () => {
    await createSession(ns.name, 'audited', { podName: 'target', user: 'alice', tty: false, command: ['id'] }, alice);
    const event = await eventually('the create in the audit log', async () => creates(ns.name, 'audited')[0], 15_000, 250);
    assert.ok(event);
    assert.equal(event.user.username, 'alice');
    assert.equal(event.responseStatus?.code, 201);
    const a = event.annotations ?? {};
    assert.equal(a[`${PREFIX}decision`], 'allowed', JSON.stringify(a));
    assert.equal(a[`${PREFIX}policy`], `ExecPolicy/${ns.name}/developers`);
    assert.equal(a[`${PREFIX}subject`], 'alice');
    assert.equal(a[`${PREFIX}container-user`], 'alice');
    assert.equal(a[`${PREFIX}ttl`], '7m');
    await waitForPhase(ns.name, 'audited', ['Succeeded']);
  });

  it('and for a session the webhook refused: decision denied, the policy and the rule', async () => {
    const r = await kubectl(['-n', ns.name, 'create', '-f', '-'], { kubeconfig: alice, input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'refused' }, spec: { podName: 'target', user: 'mallory', ttl: '5m' },
    }) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UserNotAllowed/);
    const event = await eventually('the refused create in the audit log', async () => creates(ns.name, 'refused')[0], 15_000, 250);
    assert.ok(event);
    assert.equal(event.responseStatus?.code, 403);
    const a = event.annotations ?? {};
    assert.equal(a[`${PREFIX}decision`], 'denied', JSON.stringify(a));
    assert.equal(a[`${PREFIX}policy`], `ExecPolicy/${ns.name}/developers`);
    assert.equal(a[`${PREFIX}rule`], 'UserNotAllowed');
    assert.equal(a[`${PREFIX}container-user`], 'mallory');
    assert.equal(a[`${PREFIX}ttl`], '5m');
  });

  it('the session\'s Events name the replica that reported them', async () => {
    const out = await kubectlOk(['-n', ns.name, 'get', 'events', '--field-selector', 'involvedObject.name=audited', '-o', 'jsonpath={range .items[*]}{.reportingComponent} {.reportingInstance}{"\\n"}{end}']);
    const lines = out.trim().split('\n').filter(Boolean);
    assert.ok(lines.length > 0, 'the session has Events');
    for (const line of lines) {
      const [component, instance] = line.split(' ');
      assert.equal(component, 'execsession-operator');
      // The host process runs as --leader-identity e2e-operator; installed, a replica is its pod.
      if (OPERATOR_MODE === 'process') assert.equal(instance, 'e2e-operator');
      else assert.match(instance ?? '', /^execsession-operator-/);
    }
  });
});
