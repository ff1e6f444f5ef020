import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCluster } from '../../test/support/fake-kube.js';
import type { ExecSession } from '../api/types.js';
import type { ExecPolicySpec, PolicyEntry } from '../policy/types.js';
import { Authorizer, authzRequestOf, describeAllowed } from './authorizer.js';

const NS = 'shop';
const FLUX = { username: 'system:serviceaccount:ci:flux', groups: ['system:serviceaccounts', 'system:authenticated'] };
const ALICE = { username: 'alice', groups: ['developers', 'system:authenticated'] };

function policy(name: string, spec: Partial<ExecPolicySpec>): PolicyEntry {
  return {
    kind: 'ExecPolicy',
    policy: {
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name, namespace: NS },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ...spec },
    },
  };
}

const APPROVAL = policy('pg', { approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }] } });
const TRUSTS_FLUX = policy('gitops', { delegation: { trustedCreators: [{ kind: 'ServiceAccount', name: 'flux', namespace: 'ci' }] } });

function cluster(...policies: PolicyEntry[]): FakeCluster {
  const c = new FakeCluster();
  c.addPod(NS, 'db');
  c.policies = policies;
  return c;
}

function session(spec: Partial<ExecSession['spec']> = {}, requester = ALICE): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'dbg', namespace: NS, uid: 'u1' },
    spec: { podName: 'db', user: 'postgres', requester: { ...requester, stampedAt: '2026-11-22T10:00:00Z', signature: 'x' }, ...spec },
  };
}

describe('Authorizer: approvals', () => {
  it('allows a session under an approval policy, with its terms (no longer refused)', async () => {
    const d = await new Authorizer(cluster(APPROVAL).kube()).authorize(authzRequestOf(session()));
    assert.ok(d.allowed);
    assert.equal(d.approvalsRequired, 1);
    assert.deepEqual(d.approvers, [{ kind: 'Group', name: 'approvers' }]);
    assert.equal(d.blockSelfApproval, true);
    assert.equal(d.approvalTimeoutMs, 30 * 60_000);
  });

  it('describes the approvals an allow needs, for the admission warning', async () => {
    const d = await new Authorizer(cluster(APPROVAL).kube()).authorize(authzRequestOf(session()));
    assert.equal(describeAllowed(d, ALICE), 'allowed by ExecPolicy shop/pg once 1 approval(s) from group "approvers"');
  });
});

describe('Authorizer: delegation (spec.onBehalfOf)', () => {
  const delegated = (username: string, groups: string[]): ExecSession => session({ onBehalfOf: { username, groups } }, FLUX);

  it('asks RBAC about the subject, not the creator, with system:authenticated added', async () => {
    const c = cluster(TRUSTS_FLUX);
    const d = await new Authorizer(c.kube()).authorize(authzRequestOf(delegated('alice', ['developers'])));
    assert.ok(d.allowed, JSON.stringify(d));
    assert.deepEqual(c.reviews.map((r) => r.who), [{ username: 'alice', groups: ['developers', 'system:authenticated'] }]);
    assert.deepEqual(c.reviews[0]?.attrs, { namespace: NS, verb: 'create', resource: 'pods', subresource: 'exec', name: 'db' });
    assert.deepEqual(d.subject, { username: 'alice', groups: ['developers', 'system:authenticated'] });
    assert.equal(describeAllowed(d, FLUX), 'allowed for user "alice" by ExecPolicy shop/gitops');
  });

  it('refuses when the subject lacks pods/exec, though the creator has it', async () => {
    const c = cluster(TRUSTS_FLUX);
    c.allow = (who) => who.username === FLUX.username;
    const d = await new Authorizer(c.kube()).authorize(authzRequestOf(delegated('alice', ['developers'])));
    assert.equal(d.allowed, false);
    assert.ok(!d.allowed);
    assert.equal(d.reason, 'RbacDenied');
    assert.match(d.message, /^alice may not create pods\/exec .*\(the session is for alice, created by system:serviceaccount:ci:flux/);
  });

  it('refuses a subject no policy covers, and a creator no policy trusts', async () => {
    const a = await new Authorizer(cluster(TRUSTS_FLUX).kube()).authorize(authzRequestOf(delegated('bob', [])));
    assert.equal(a.allowed ? 'allowed' : a.reason, 'NoPolicy');
    const b = await new Authorizer(cluster(policy('people', {})).kube()).authorize(authzRequestOf(delegated('alice', ['developers'])));
    assert.equal(b.allowed ? 'allowed' : b.reason, 'CreatorNotTrusted');
  });

  it('asks RBAC about the requester when nobody else is named', async () => {
    const c = cluster(TRUSTS_FLUX);
    await new Authorizer(c.kube()).authorize(authzRequestOf(session()));
    assert.equal(c.reviews[0]?.who.username, 'alice');
  });
});
