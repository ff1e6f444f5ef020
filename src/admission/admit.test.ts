// The validating webhook's answer on CREATE, with the real Authorizer and policy
// evaluation over an in-memory API (test/support/fake-kube.ts): its audit
// annotations (which kube-apiserver writes into its audit log, prefixed with
// the webhook's name) and the denials it counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCluster } from '../../test/support/fake-kube.js';
import { sample } from '../../test/support/metrics.js';
import type { ExecSessionSpec } from '../api/types.js';
import { Authorizer } from '../authz/authorizer.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import type { ExecPolicySpec } from '../policy/types.js';
import { admitSession, auditAnnotations } from './admit.js';
import type { AdmissionRequest } from './review.js';
import type { AuditEvent } from '../audit/event.js';

const NS = 'shop';
const ALICE = { username: 'alice', groups: ['developers', 'system:authenticated'] };

function world(spec: Partial<ExecPolicySpec> = {}): { c: FakeCluster; metrics: OperatorMetrics; audited: AuditEvent[]; admit: (r: AdmissionRequest) => ReturnType<typeof admitSession> } {
  const c = new FakeCluster();
  c.addPod(NS, 'db');
  c.policies = [{
    kind: 'ClusterExecPolicy',
    policy: {
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: 'developers' },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['postgres', 'alice'] }, ttl: { default: '10m', max: '1h' }, ...spec },
    },
  }];
  const metrics = new OperatorMetrics();
  const audited: AuditEvent[] = [];
  const audit = { emit: (e: AuditEvent): void => { audited.push(e); } };
  return { c, metrics, audited, admit: (r) => admitSession(r, { authorizer: new Authorizer(c.kube()), operatorNamespace: 'execsession-system', metrics, audit }) };
}

function create(spec: Partial<ExecSessionSpec>, more: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: 'r1', operation: 'CREATE', namespace: NS, name: 'dbg', userInfo: ALICE,
    object: { metadata: { name: 'dbg', namespace: NS }, spec: { podName: 'db', user: 'postgres', ...spec } },
    ...more,
  };
}

describe('the validating webhook\'s audit annotations', () => {
  it('an allow: decision, policy, subject, container user, the ttl decided (the policy\'s default), and the rules left for the resolved user', async () => {
    const w = world();
    const r = await w.admit(create({}));
    assert.equal(r.allowed, true);
    assert.deepEqual(r.auditAnnotations, {
      decision: 'allowed', subject: 'alice', 'container-user': 'postgres', policy: 'ClusterExecPolicy/developers', ttl: '10m',
      // A name may be uid 0 inside the container: the root rules are decided again once it is resolved.
      rule: 'pending:users.allowRoot,users.allowRootGroup',
    });
    assert.match(r.warnings?.[0] ?? '', /allowed by ClusterExecPolicy developers/);
  });

  it('an allow under approvals says how many, with the session\'s own ttl', async () => {
    const w = world({ approval: { required: 2, approvers: [{ kind: 'Group', name: 'dba' }] } });
    const r = await w.admit(create({ ttl: '30m' }));
    assert.equal(r.allowed, true);
    assert.equal(r.auditAnnotations?.ttl, '30m');
    assert.equal(r.auditAnnotations?.['approvals-required'], '2');
  });

  it('a refusal is audited as requested by the requester, then denied by the operator with the policy and rule; an allow and a dry run are not', async () => {
    const w = world();
    await w.admit(create({}));
    await w.admit(create({ user: 'mallory' }, { dryRun: true }));
    assert.equal(w.audited.length, 0);
    await w.admit(create({ user: 'mallory' }));
    assert.deepEqual(w.audited.map((e) => [e.type, e.actor.username, e.policy, e.reason, e.requestUID, e.session.name, e.containerUser.spec]), [
      ['requested', 'alice', undefined, undefined, 'r1', 'dbg', 'mallory'],
      ['denied', 'execsession-operator', 'ClusterExecPolicy/developers', 'UserNotAllowed', 'r1', 'dbg', 'mallory'],
    ]);
  });

  it('a policy refusal: decision denied, the policy and the rule (its reason), and it is counted', async () => {
    const w = world();
    const r = await w.admit(create({ user: 'mallory', ttl: '5m' }));
    assert.equal(r.allowed, false);
    assert.equal(r.status?.code, 403);
    assert.deepEqual(r.auditAnnotations, { decision: 'denied', subject: 'alice', 'container-user': 'mallory', policy: 'ClusterExecPolicy/developers', rule: 'UserNotAllowed', ttl: '5m' });
    assert.equal(await sample(w.metrics, 'execsession_denials_total', { stage: 'admission', reason: 'UserNotAllowed' }), 1);
  });

  it('RBAC refusal and the operator\'s own namespace: denied with the rule that refused, counted; a dry run is annotated but not counted', async () => {
    const w = world();
    w.c.allow = () => false;
    const rbac = await w.admit(create({}));
    assert.deepEqual([rbac.allowed, rbac.auditAnnotations?.decision, rbac.auditAnnotations?.rule], [false, 'denied', 'RbacDenied']);
    const own = await w.admit(create({}, { namespace: 'execsession-system' }));
    assert.equal(own.auditAnnotations?.decision, 'denied');
    assert.ok(own.auditAnnotations?.rule, 'names the protected-target reason');
    await w.admit(create({}, { dryRun: true }));
    assert.equal(await sample(w.metrics, 'execsession_denials_total', { stage: 'admission', reason: 'RbacDenied' }), 1);
    assert.equal(await sample(w.metrics, 'execsession_denials_total', { stage: 'admission', reason: own.auditAnnotations?.rule ?? '' }), 1);
  });

  it('a delegated session names its subject (spec.onBehalfOf), not the creator', async () => {
    const w = world({ delegation: { trustedCreators: [{ kind: 'User', name: 'alice' }] } });
    const r = await w.admit(create({ onBehalfOf: { username: 'bob', groups: ['developers'] } }));
    assert.equal(r.auditAnnotations?.subject, 'bob');
  });

  it('an invalid spec is annotated invalid and not counted as a denial; an UPDATE carries none', async () => {
    const w = world();
    const bad = await w.admit(create({ ttl: 'forever' }));
    assert.equal(bad.allowed, false);
    assert.equal(bad.auditAnnotations?.decision, 'invalid');
    assert.equal(await sample(w.metrics, 'execsession_denials_total'), undefined);
    const update = await w.admit({ ...create({}), operation: 'UPDATE', oldObject: { spec: { podName: 'db', user: 'postgres' } } });
    assert.equal(update.auditAnnotations, undefined);
  });

  it('keys are plain names kube-apiserver can prefix with the webhook\'s name; values are cut to 256 characters', () => {
    const a = auditAnnotations({ decision: 'allowed', subject: 'x'.repeat(300), containerUser: 'u', approvalsRequired: 1 });
    for (const key of Object.keys(a)) assert.match(`validate.execsession.dev/${key}`, /^[a-z0-9.]+\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.equal(a.subject?.length, 256);
  });
});
