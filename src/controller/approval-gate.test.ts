import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalRecord, ExecSession } from '../api/types.js';
import { signApproval } from '../approval/approvals.js';
import type { Allowed } from '../policy/types.js';
import { decideApproval } from './approval-gate.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const CREATED = '2026-11-22T10:00:00Z';
const alice = { username: 'alice', groups: ['developers', 'approvers'] };
const carol = { username: 'carol', groups: ['approvers'] };
const dave = { username: 'dave', groups: ['approvers'] };

const DECISION: Allowed = {
  allowed: true, policy: { kind: 'ExecPolicy', name: 'pg', namespace: 'shop' }, ttlMs: 900_000, maxTtlMs: 3_600_000,
  approvalsRequired: 1, approvers: [{ kind: 'Group', name: 'approvers' }], blockSelfApproval: true, approvalTimeoutMs: 30 * 60_000,
  pendingResolution: false, pendingRules: [], subject: alice, recording: { mode: 'Required' },
} as Allowed;

function session(approvals: ApprovalRecord[] = []): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: 'shop', uid: 'u1', creationTimestamp: CREATED as never },
    spec: { podName: 'db', user: 'postgres', requester: { ...alice, stampedAt: CREATED, signature: 'x' } },
    status: { phase: 'WaitingForApproval', approvals },
  };
}

const REF = { namespace: 'shop', name: 'dbg', uid: 'u1' };
const give = (who: { username: string; groups: string[] }, decision: 'Approved' | 'Denied' = 'Approved', reason?: string): ApprovalRecord =>
  signApproval(KEY, REF, { decision, who, at: '2026-11-22T10:05:00Z', reason });
const at = (minutes: number): Date => new Date(Date.parse(CREATED) + minutes * 60_000);

describe('decideApproval', () => {
  it('waits, naming the approvers, the policy, the deadline and how to approve', () => {
    const g = decideApproval(session(), DECISION, KEY, at(10));
    assert.equal(g.kind, 'wait');
    assert.ok(g.kind === 'wait');
    assert.equal(g.afterMs, 20 * 60_000);
    assert.equal(g.message, 'waiting for 1 more approval(s) from group "approvers" (ExecPolicy shop/pg requires 1, 0 given) until 2026-11-22T10:30:00Z; '
      + 'approve with: kubectl execsession approve dbg -n shop (or deny with: kubectl execsession deny dbg -n shop)');
  });

  it('starts once an approver approved', () => {
    const g = decideApproval(session([give(carol)]), DECISION, KEY, at(10));
    assert.deepEqual(g, { kind: 'approved', message: 'approved by "carol" (ExecPolicy shop/pg requires 1 approval(s) from group "approvers")' });
  });

  it('keeps waiting on a self-approval, and says why it did not count', () => {
    const g = decideApproval(session([give(alice)]), DECISION, KEY, at(10));
    assert.equal(g.kind, 'wait');
    assert.match(g.message, /not counted: "alice" \(user "alice" cannot approve or deny a session they asked for/);
  });

  it('keeps waiting on a forged approval', () => {
    assert.equal(decideApproval(session([{ ...give(carol), username: 'dave' }]), DECISION, KEY, at(10)).kind, 'wait');
  });

  it('waits for the second distinct approver when two are required', () => {
    const two = { ...DECISION, approvalsRequired: 2 };
    assert.equal(decideApproval(session([give(carol), give(carol)]), two, KEY, at(10)).kind, 'wait');
    assert.equal(decideApproval(session([give(carol), give(dave)]), two, KEY, at(10)).kind, 'approved');
  });

  it('ends Denied (ApprovalDenied) on a denial, naming who and why', () => {
    const g = decideApproval(session([give(carol, 'Denied', 'not during the freeze')]), DECISION, KEY, at(10));
    assert.deepEqual(g, { kind: 'end', phase: 'Denied', reason: 'ApprovalDenied', message: 'denied by user "carol" (reason: "not during the freeze"); ask them why, or create a new session' });
  });

  it('ends Expired (ApprovalTimedOut) at the approval timeout', () => {
    const g = decideApproval(session(), DECISION, KEY, at(30));
    assert.equal(g.kind === 'end' && `${g.phase}/${g.reason}`, 'Expired/ApprovalTimedOut');
    assert.match(g.message, /^not approved within 30m \(ExecPolicy shop\/pg requires 1 approval\(s\) from group "approvers"; 0 given\)/);
  });

  it('still starts after the timeout when approved in time (e.g. the operator was down)', () => {
    assert.equal(decideApproval(session([give(carol)]), DECISION, KEY, at(45)).kind, 'approved');
  });
});
