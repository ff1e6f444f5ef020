import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalRecord } from '../api/types.js';
import {
  approvalDeadline, approvalState, approverProblem, describeApprovers, signApproval, tallyApprovals, verifyApproval, type ApprovalTerms,
} from './approvals.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const REF = { namespace: 'shop', name: 'debug', uid: 'uid-1' };
const AT = '2026-11-22T10:00:00Z';
const DEADLINE = Date.parse('2026-11-22T10:30:00Z');
const carol = { username: 'carol', groups: ['approvers'] };
const dave = { username: 'dave', groups: ['approvers'] };
const alice = { username: 'alice', groups: ['developers', 'approvers'] };
const flux = { username: 'system:serviceaccount:ci:flux', groups: ['system:serviceaccounts'] };
const mallory = { username: 'mallory', groups: ['developers'] };

const TERMS: ApprovalTerms = {
  required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], blockSelfApproval: true, subject: alice, requester: alice,
};

const signed = (who: { username: string; groups: string[] }, decision: 'Approved' | 'Denied' = 'Approved', at = AT, reason?: string): ApprovalRecord =>
  signApproval(KEY, REF, { decision, who, at, reason });

describe('signApproval and verifyApproval', () => {
  const r = signed(carol, 'Approved', AT, 'INC-1 checked');

  it('records who, what, when and why, and verifies for its session', () => {
    assert.deepEqual({ ...r, signature: undefined }, { decision: 'Approved', username: 'carol', groups: ['approvers'], at: AT, reason: 'INC-1 checked', signature: undefined });
    assert.equal(verifyApproval(KEY, REF, r), true);
  });

  it('leaves an empty reason out (the API server reads "" as null) and still verifies', () => {
    const plain = signApproval(KEY, REF, { decision: 'Denied', who: carol, at: AT, reason: '' });
    assert.equal('reason' in plain, false);
    assert.equal(verifyApproval(KEY, REF, plain), true);
    assert.equal(verifyApproval(KEY, REF, { ...plain, reason: '' }), true);
  });

  const tampered: Array<[string, () => boolean]> = [
    ['Approved turned into Denied', () => verifyApproval(KEY, REF, { ...r, decision: 'Denied' })],
    ['another user', () => verifyApproval(KEY, REF, { ...r, username: 'mallory' })],
    ['a group added', () => verifyApproval(KEY, REF, { ...r, groups: [...(r.groups ?? []), 'system:masters'] })],
    ['another time', () => verifyApproval(KEY, REF, { ...r, at: '2026-11-22T09:00:00Z' })],
    ['another reason', () => verifyApproval(KEY, REF, { ...r, reason: 'whatever' })],
    ['copied to another session', () => verifyApproval(KEY, { ...REF, name: 'other' }, r)],
    ['copied to a re-created session of the same name', () => verifyApproval(KEY, { ...REF, uid: 'uid-2' }, r)],
    ['copied to another namespace', () => verifyApproval(KEY, { ...REF, namespace: 'prod' }, r)],
    ['signed with another key', () => verifyApproval(Buffer.from('another key'), REF, r)],
    ['no signature', () => verifyApproval(KEY, REF, { ...r, signature: '' })],
    ['a truncated signature', () => verifyApproval(KEY, REF, { ...r, signature: r.signature.slice(0, 8) })],
    ['an unknown decision', () => verifyApproval(KEY, REF, { ...r, decision: 'Maybe' as never })],
    ['a hand-written entry', () => verifyApproval(KEY, REF, { decision: 'Approved', username: 'carol', at: AT, signature: Buffer.alloc(32).toString('base64') })],
  ];
  for (const [name, check] of tampered) it(`refuses ${name}`, () => assert.equal(check(), false));
});

describe('approverProblem', () => {
  const cases: Array<[string, { username: string; groups: string[] }, Partial<ApprovalTerms>, string | undefined]> = [
    ['an approver by group', carol, {}, undefined],
    ['an approver by user name', { username: 'erin', groups: [] }, { approvers: [{ kind: 'User', name: 'erin' }] }, undefined],
    ['an approver ServiceAccount', flux, { approvers: [{ kind: 'ServiceAccount', name: 'flux', namespace: 'ci' }] }, undefined],
    ['someone outside the approvers', mallory, {}, 'NotAnApprover'],
    ['the subject, also an approver, with self-approval blocked', alice, {}, 'SelfApprovalBlocked'],
    ['the requester of a delegated session, also an approver', { username: flux.username, groups: ['approvers'] }, { requester: flux }, 'SelfApprovalBlocked'],
    ['the subject when self-approval is allowed', alice, { blockSelfApproval: false }, undefined],
    ['the subject who is not an approver (not an approver comes first)', { username: 'alice', groups: [] }, {}, 'NotAnApprover'],
  ];
  for (const [name, who, terms, reason] of cases) {
    it(`${reason ?? 'allows'}: ${name}`, () => assert.equal(approverProblem(who, { ...TERMS, ...terms })?.reason, reason));
  }

  it('says who may approve instead', () => {
    assert.match(approverProblem(mallory, TERMS)?.message ?? '', /only group "approvers" may/);
    assert.match(approverProblem(alice, TERMS)?.message ?? '', /ask another of group "approvers"/);
  });
});

describe('tallyApprovals', () => {
  const tally = (records: ApprovalRecord[], terms: Partial<ApprovalTerms> = {}) => tallyApprovals(KEY, REF, records, { ...TERMS, ...terms }, DEADLINE);

  it('counts a valid approval', () => {
    assert.deepEqual(tally([signed(carol)]), { approvedBy: ['carol'], ignored: [] });
  });

  it('counts each user once', () => {
    assert.deepEqual(tally([signed(carol), signed(carol, 'Approved', '2026-11-22T10:01:00Z'), signed(dave)]).approvedBy, ['carol', 'dave']);
  });

  it('takes a user\'s first decision: a later denial by the same approver does not count', () => {
    const t = tally([signed(carol), signed(carol, 'Denied', '2026-11-22T10:01:00Z')]);
    assert.equal(t.denial, undefined);
    assert.deepEqual(t.ignored.map((i) => i.why), ['this user already decided']);
  });

  const ignored: Array<[string, ApprovalRecord, Partial<ApprovalTerms>, RegExp]> = [
    ['a forged entry', { ...signed(carol), username: 'dave' }, {}, /signature does not verify/],
    ['an entry by someone no longer an approver', signed(carol), { approvers: [{ kind: 'User', name: 'dave' }] }, /only user "dave" may/],
    ['self-approval when blocked', signed(alice), {}, /cannot approve or deny a session they asked for/],
    ['an approval after the timeout', signed(carol, 'Approved', '2026-11-22T10:30:01Z'), {}, /after the approval timeout/],
  ];
  for (const [name, record, terms, why] of ignored) {
    it(`ignores ${name}, saying why`, () => {
      const t = tally([record], terms);
      assert.deepEqual(t.approvedBy, []);
      assert.match(t.ignored[0]?.why ?? '', why);
    });
  }

  it('counts self-approval when the policy allows it', () => {
    assert.deepEqual(tally([signed(alice)], { blockSelfApproval: false }).approvedBy, ['alice']);
  });

  it('reports the first valid denial, and ignores a forged one', () => {
    assert.equal(tally([{ ...signed(carol, 'Denied'), username: 'dave' }]).denial, undefined);
    const t = tally([signed(carol), signed(dave, 'Denied', AT, 'not during the freeze')]);
    assert.equal(t.denial?.username, 'dave');
    assert.deepEqual(t.approvedBy, ['carol']);
  });

  it('handles no entries at all', () => {
    assert.deepEqual(tallyApprovals(KEY, REF, undefined, TERMS, DEADLINE), { approvedBy: [], ignored: [] });
  });
});

describe('approvalState', () => {
  const now = new Date('2026-11-22T10:10:00Z');
  const table: Array<[string, Parameters<typeof approvalState>[0], number, Date, string]> = [
    ['enough approvals', { approvedBy: ['carol'], ignored: [] }, 1, now, 'approved'],
    ['more than enough', { approvedBy: ['carol', 'dave'], ignored: [] }, 1, now, 'approved'],
    ['too few', { approvedBy: ['carol'], ignored: [] }, 2, now, 'waiting'],
    ['none yet', { approvedBy: [], ignored: [] }, 1, now, 'waiting'],
    ['a denial, even with enough approvals', { approvedBy: ['carol'], denial: signed(dave, 'Denied'), ignored: [] }, 1, now, 'denied'],
    ['too few at the deadline', { approvedBy: [], ignored: [] }, 1, new Date(DEADLINE), 'timedOut'],
    ['enough approvals after the deadline (given in time)', { approvedBy: ['carol'], ignored: [] }, 1, new Date(DEADLINE + 1000), 'approved'],
  ];
  for (const [name, tally, required, at, kind] of table) {
    it(`${kind}: ${name}`, () => assert.equal(approvalState(tally, required, DEADLINE, at).kind, kind));
  }

  it('waits until the deadline, and names the denier and their reason', () => {
    assert.deepEqual(approvalState({ approvedBy: [], ignored: [] }, 1, DEADLINE, now), { kind: 'waiting', have: 0, afterMs: 20 * 60_000 });
    assert.deepEqual(approvalState({ approvedBy: [], denial: signed(dave, 'Denied', AT, 'no'), ignored: [] }, 1, DEADLINE, now), { kind: 'denied', by: 'dave', reason: 'no' });
  });
});

describe('approvalDeadline and describeApprovers', () => {
  it('counts the timeout from creation, else from the stamp', () => {
    const now = new Date('2026-11-22T11:00:00Z');
    assert.equal(approvalDeadline({ metadata: { creationTimestamp: AT as never }, spec: { podName: 'p', user: 'u' } }, 60_000, now), Date.parse(AT) + 60_000);
    assert.equal(approvalDeadline({ metadata: {}, spec: { podName: 'p', user: 'u', requester: { username: 'a', stampedAt: AT } } }, 60_000, now), Date.parse(AT) + 60_000);
  });

  it('names approvers the way people say them', () => {
    assert.equal(describeApprovers([{ kind: 'Group', name: 'approvers' }, { kind: 'User', name: 'carol' }, { kind: 'ServiceAccount', name: 'bot', namespace: 'ci' }]),
      'group "approvers" or user "carol" or ServiceAccount "ci/bot"');
    assert.equal(describeApprovers([]), 'nobody');
  });
});
