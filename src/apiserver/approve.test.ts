import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCluster } from '../../test/support/fake-kube.js';
import type { ExecSession, Phase } from '../api/types.js';
import { verifyApproval } from '../approval/approvals.js';
import type { PolicyEntry } from '../policy/types.js';
import { approve, deny } from './approve.js';
import type { Person } from '../api/types.js';
import { ApiError, type ActionContext } from './types.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const NS = 'shop';
const NOW = new Date('2026-11-22T10:05:00Z');
const alice = { username: 'alice', groups: ['developers', 'approvers'], extra: {} };
const carol = { username: 'carol', groups: ['approvers'], extra: {} };
const dave = { username: 'dave', groups: ['approvers'], extra: {} };
const mallory = { username: 'mallory', groups: ['developers'], extra: {} };

const POLICY: PolicyEntry = {
  kind: 'ExecPolicy',
  policy: {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'pg', namespace: NS },
    spec: {
      subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] },
      approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], timeout: '30m' },
    },
  },
};

function setup(phase: Phase = 'WaitingForApproval'): FakeCluster {
  const c = new FakeCluster();
  c.addPod(NS, 'db');
  c.policies = [POLICY];
  c.addSession({
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: NS, uid: 'u1', creationTimestamp: '2026-11-22T10:00:00Z' as never },
    spec: { podName: 'db', user: 'postgres', requester: { username: 'alice', groups: ['developers', 'approvers'], stampedAt: '2026-11-22T10:00:00Z', signature: 'x' } },
    status: { phase },
  });
  return c;
}

const ctx = (c: FakeCluster, caller: Person, body: Record<string, unknown> = {}, name = 'dbg', now = NOW): ActionContext =>
  ({ kube: c.kube(), caller, namespace: NS, name, body, stampKey: KEY, now });

async function refused(p: Promise<ExecSession>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return { code: e.code, reason: e.reason, message: e.message };
    throw e;
  }
  assert.fail('the action did not refuse');
}

describe('approve', () => {
  it('appends a signed approval from the forwarded identity and returns the session', async () => {
    const c = setup();
    const s = await approve(ctx(c, carol, { reason: 'INC-1 checked' }));
    const [record] = s.status?.approvals ?? [];
    assert.deepEqual({ ...record, signature: undefined }, { decision: 'Approved', username: 'carol', groups: ['approvers'], at: '2026-11-22T10:05:00Z', reason: 'INC-1 checked', signature: undefined });
    assert.ok(record && verifyApproval(KEY, { namespace: NS, name: 'dbg', uid: 'u1' }, record));
    assert.match(c.events[0]?.message ?? '', /^approved by carol \(1 of 1 approval\(s\)\): INC-1 checked$/);
  });

  it('keeps earlier approvals when another approver adds theirs', async () => {
    const c = setup();
    await approve(ctx(c, carol));
    const s = await approve(ctx(c, dave));
    assert.deepEqual(s.status?.approvals?.map((a) => a.username), ['carol', 'dave']);
  });

  it('re-reads and retries when the session changed between read and write', async () => {
    const c = setup();
    let writes = 0;
    c.beforePatch = () => {
      if (writes++ === 0) c.touch(NS, 'dbg');
    };
    const s = await approve(ctx(c, carol));
    assert.equal(s.status?.approvals?.length, 1);
    assert.equal(writes, 2);
  });

  const refusals: Array<[string, () => { c: FakeCluster; a: ActionContext }, number, string, RegExp]> = [
    ['an unknown session', () => ({ c: setup(), a: ctx(setup(), carol, {}, 'nope') }), 404, 'NotFound', /execsession shop\/nope not found/],
    ['a session not waiting for approval', () => { const c = setup('Ready'); return { c, a: ctx(c, carol) }; }, 409, 'NotWaitingForApproval', /is Ready, not WaitingForApproval/],
    ['a session that has ended', () => { const c = setup('Denied'); return { c, a: ctx(c, carol) }; }, 410, 'Ended', /has already ended \(Denied/],
    ['someone who is not an approver', () => { const c = setup(); return { c, a: ctx(c, mallory) }; }, 403, 'NotAnApprover', /only group "approvers" may/],
    ['the subject approving their own session', () => { const c = setup(); return { c, a: ctx(c, alice) }; }, 403, 'SelfApprovalBlocked', /cannot approve or deny a session they asked for/],
    ['a reason that is not a string', () => { const c = setup(); return { c, a: ctx(c, carol, { reason: 42 }) }; }, 400, 'BadRequest', /reason must be a string/],
    ['an approval after the timeout', () => { const c = setup(); return { c, a: ctx(c, carol, {}, 'dbg', new Date('2026-11-22T10:31:00Z')) }; }, 409, 'ApprovalTimedOut', /stopped waiting for approval at 2026-11-22T10:30:00Z/],
  ];
  for (const [name, arrange, code, reason, message] of refusals) {
    it(`refuses ${name} (${code} ${reason})`, async () => {
      const { c, a } = arrange();
      const r = await refused(approve(a));
      assert.deepEqual([r.code, r.reason], [code, reason]);
      assert.match(r.message, message);
      assert.equal(c.sessions.get(`${NS}/dbg`)?.status?.approvals, undefined, 'nothing written');
    });
  }

  it('refuses a second decision by the same user (409 AlreadyDecided)', async () => {
    const c = setup();
    await approve(ctx(c, carol));
    const r = await refused(deny(ctx(c, carol)));
    assert.deepEqual([r.code, r.reason], [409, 'AlreadyDecided']);
    assert.match(r.message, /already approved .* at 2026-11-22T10:05:00Z/);
  });

  it('refuses when the policy no longer requires approval, or no longer allows the session', async () => {
    const c = setup();
    c.policies = [{ ...POLICY, policy: { ...POLICY.policy, spec: { ...POLICY.policy.spec, approval: { required: 0 } } } } as PolicyEntry];
    assert.equal((await refused(approve(ctx(c, carol)))).reason, 'NoApprovalRequired');
    c.policies = [];
    assert.equal((await refused(approve(ctx(c, carol)))).reason, 'NoLongerAllowed');
  });
});

describe('deny', () => {
  it('appends a signed denial with the reason', async () => {
    const c = setup();
    const s = await deny(ctx(c, carol, { reason: 'not during the freeze' }));
    assert.deepEqual(s.status?.approvals?.map((a) => [a.decision, a.username, a.reason]), [['Denied', 'carol', 'not during the freeze']]);
    assert.deepEqual(c.events.map((e) => [e.type, e.reason]), [['Warning', 'ApprovalDenied']]);
  });

  it('is refused to non-approvers and to the subject, as approve is', async () => {
    assert.equal((await refused(deny(ctx(setup(), mallory)))).reason, 'NotAnApprover');
    assert.equal((await refused(deny(ctx(setup(), alice)))).reason, 'SelfApprovalBlocked');
  });
});
