/**
 * Approvals as signed entries in status.approvals. The aggregated API's
 * approve/deny write them from kube-apiserver's forwarded identity and sign them
 * with the operator's key; the controller counts only entries that verify, come
 * from an approver the current decision names, and (with blockSelfApproval) not
 * from the session's subject or requester. Pure: keys, records and terms in,
 * answers out. See docs/adr/0009-approvals-signed-in-status.md.
 */
import type { ApprovalDecision, ApprovalRecord, ExecSession, Person } from '../api/types.js';
import { matchesAnySubject } from '../policy/subjects.js';
import type { Subject } from '../policy/types.js';
import { signJson, verifyJson } from '../signing/hmac.js';

/** The session an approval belongs to: a record never moves to another (uid included). */
export interface SessionRef {
  namespace: string;
  name: string;
  uid: string;
}

/** What the current policy decision says about approvals. */
export interface ApprovalTerms {
  required: number;
  approvers: readonly Subject[];
  blockSelfApproval: boolean;
  /** Whom the session is for (onBehalfOf, else the requester). */
  subject: Person;
  /** Who created the session. */
  requester: Person;
}

/** Why an identity may not approve or deny; reasons are the aggregated API's 403 reasons. */
export interface ApproverProblem {
  reason: 'NotAnApprover' | 'SelfApprovalBlocked';
  message: string;
}

/** What an approval's signature covers. */
function signedContent(ref: SessionRef, r: Omit<ApprovalRecord, 'signature'>): object {
  const record = { decision: r.decision, username: r.username, groups: r.groups ?? [], at: r.at, reason: r.reason || undefined };
  return { v: 1, namespace: ref.namespace, name: ref.name, uid: ref.uid, approval: record };
}

/** One decision to record: who decided what, when (RFC 3339), and why. */
export interface ApprovalInput {
  decision: ApprovalDecision;
  who: Person;
  at: string;
  reason?: string;
}

/** A signed record of the decision; an empty reason is left out (the API server reads "" as null). */
export function signApproval(key: Buffer, ref: SessionRef, { decision, who, at, reason }: ApprovalInput): ApprovalRecord {
  const unsigned = { decision, username: who.username, groups: [...who.groups], at, ...(reason ? { reason } : {}) };
  return { ...unsigned, signature: signJson(key, signedContent(ref, unsigned)) };
}

/** True when the record was signed by `key` for this session and is unchanged. */
export function verifyApproval(key: Buffer, ref: SessionRef, record: Partial<ApprovalRecord>): boolean {
  const { decision, username, at, signature } = record;
  if ((decision !== 'Approved' && decision !== 'Denied') || !username || !at || !signature) return false;
  return verifyJson(key, signedContent(ref, { decision, username, groups: record.groups, at, reason: record.reason }), signature);
}

/** `group "approvers" or user "carol"`, for messages. */
export function describeApprovers(approvers: readonly Subject[]): string {
  if (approvers.length === 0) return 'nobody';
  return approvers.map((s) => {
    const name = s.kind === 'ServiceAccount' ? `${s.namespace ?? '?'}/${s.name}` : s.name;
    return `${s.kind === 'ServiceAccount' ? 'ServiceAccount' : s.kind.toLowerCase()} ${JSON.stringify(name)}`;
  }).join(' or ');
}

/** Whether `who` may approve or deny under these terms; undefined when they may. */
export function approverProblem(who: Person, terms: ApprovalTerms): ApproverProblem | undefined {
  if (!matchesAnySubject(who, terms.approvers)) {
    return {
      reason: 'NotAnApprover',
      message: `user ${JSON.stringify(who.username)} may not approve or deny this session: only ${describeApprovers(terms.approvers)} may; ask one of them`,
    };
  }
  const self = [terms.subject.username, terms.requester.username].includes(who.username);
  if (self && terms.blockSelfApproval) {
    return {
      reason: 'SelfApprovalBlocked',
      message: `user ${JSON.stringify(who.username)} cannot approve or deny a session they asked for or created (the policy blocks self-approval); ask another of ${describeApprovers(terms.approvers)}`,
    };
  }
  return undefined;
}

/** An entry that does not count, and why (for messages and logs). */
export interface IgnoredApproval {
  username: string;
  why: string;
}

/** The entries that count, by distinct approver, and those that do not. */
export interface Tally {
  /** Distinct user names of counted approvals, in the order given. */
  approvedBy: string[];
  /** The first counted denial, if any: it decides the session. */
  denial?: ApprovalRecord;
  ignored: IgnoredApproval[];
}

/** Why an entry does not count, or undefined when it does. */
function whyIgnored(key: Buffer, ref: SessionRef, r: ApprovalRecord, terms: ApprovalTerms, deadline: number): string | undefined {
  if (!verifyApproval(key, ref, r)) return 'its signature does not verify (not written by the execsession API)';
  const late = Date.parse(r.at) > deadline;
  if (late) return 'it was given after the approval timeout';
  return approverProblem({ username: r.username, groups: r.groups ?? [] }, terms)?.message;
}

/**
 * Counts status.approvals under the current terms: an entry counts when it
 * verifies, was given by the deadline (ms since the epoch), and its author may
 * approve now (an approver, and not self when self-approval is blocked). A user
 * counts once: their first counted entry is their decision.
 */
export function tallyApprovals(key: Buffer, ref: SessionRef, records: readonly ApprovalRecord[] | undefined, terms: ApprovalTerms, deadline: number): Tally {
  const tally: Tally = { approvedBy: [], ignored: [] };
  const decided = new Set<string>();
  for (const r of records ?? []) {
    const why = whyIgnored(key, ref, r, terms, deadline);
    if (why !== undefined || decided.has(r.username)) {
      tally.ignored.push({ username: r.username ?? '', why: why ?? 'this user already decided' });
      continue;
    }
    decided.add(r.username);
    if (r.decision === 'Approved') tally.approvedBy.push(r.username);
    else tally.denial ??= r;
  }
  return tally;
}

/**
 * When a session stops waiting: its creation plus the policy's approval.timeout
 * (ms since the epoch). Counted from persisted state, so restarts do not extend it.
 */
export function approvalDeadline(s: Pick<ExecSession, 'metadata' | 'spec'>, timeoutMs: number, now: Date): number {
  const created = Date.parse(String(s.metadata.creationTimestamp ?? '')) || Date.parse(s.spec.requester?.stampedAt ?? '') || now.getTime();
  return created + timeoutMs;
}

/** Where a session stands on approval. */
export type ApprovalState =
  | { kind: 'approved'; by: string[] }
  | { kind: 'denied'; by: string; reason?: string }
  | { kind: 'timedOut' }
  | { kind: 'waiting'; have: number; afterMs: number };

/**
 * Decides from the tally, the number required and the time: a counted denial
 * ends it, enough approvals let it start, else it waits until the deadline.
 */
export function approvalState(tally: Tally, required: number, deadline: number, now: Date): ApprovalState {
  if (tally.denial) return { kind: 'denied', by: tally.denial.username, ...(tally.denial.reason ? { reason: tally.denial.reason } : {}) };
  if (tally.approvedBy.length >= required) return { kind: 'approved', by: tally.approvedBy };
  const left = deadline - now.getTime();
  if (left <= 0) return { kind: 'timedOut' };
  return { kind: 'waiting', have: tally.approvedBy.length, afterMs: left };
}
