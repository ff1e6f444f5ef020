/**
 * The controller's approval decision for a session whose policy requires
 * approvals: pure, from the session (its status.approvals and creation time),
 * the current policy decision, the key and the time. The reconciler acts on it:
 * wait in WaitingForApproval, start, or end the session.
 */
import { Reason, kubeTime, type ReasonName } from '../api/conditions.js';
import { formatDuration } from '../api/duration.js';
import { sessionRequester } from '../api/subject.js';
import type { ExecSession } from '../api/types.js';
import { approvalDeadline, approvalState, describeApprovers, tallyApprovals, type Tally } from '../approval/approvals.js';
import { approvalTerms, describePolicy } from '../authz/authorizer.js';
import type { Allowed } from '../policy/types.js';

/** What to do about approvals. */
export type ApprovalGate =
  | { kind: 'approved'; message: string }
  | { kind: 'wait'; message: string; afterMs: number }
  | { kind: 'end'; phase: 'Denied' | 'Expired'; reason: ReasonName; message: string };

/** The entries that did not count, e.g. `; not counted: "bob" (...)`; empty when all did. */
function describeIgnored(t: Tally): string {
  if (t.ignored.length === 0) return '';
  return `; not counted: ${t.ignored.map((i) => `${JSON.stringify(i.username)} (${i.why})`).join('; ')}`;
}

/** How to approve, for messages: the plugin command of docs/api.md. */
export function howToApprove(s: ExecSession): string {
  const where = `${s.metadata.name ?? ''} -n ${s.metadata.namespace ?? ''}`;
  return `approve with: kubectl execsession approve ${where} (or deny with: kubectl execsession deny ${where})`;
}

/** Decides from the counted approvals whether the session may start, waits, or ends. */
export function decideApproval(s: ExecSession, d: Allowed, key: Buffer, now: Date): ApprovalGate {
  const ref = { namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '', uid: s.metadata.uid ?? '' };
  const deadline = approvalDeadline(s, d.approvalTimeoutMs, now);
  const tally = tallyApprovals(key, ref, s.status?.approvals, approvalTerms(d, sessionRequester(s.spec)), deadline);
  const state = approvalState(tally, d.approvalsRequired, deadline, now);
  const policy = describePolicy(d);
  const from = describeApprovers(d.approvers);
  switch (state.kind) {
    case 'approved':
      return { kind: 'approved', message: `approved by ${state.by.map((u) => JSON.stringify(u)).join(', ')} (${policy} requires ${d.approvalsRequired} approval(s) from ${from})` };
    case 'denied':
      return {
        kind: 'end', phase: 'Denied', reason: Reason.ApprovalDenied,
        message: `denied by user ${JSON.stringify(state.by)}${state.reason ? ` (reason: ${JSON.stringify(state.reason)})` : ' (no reason given)'}; ask them why, or create a new session`,
      };
    case 'timedOut':
      return {
        kind: 'end', phase: 'Expired', reason: Reason.ApprovalTimedOut,
        message: `not approved within ${formatDuration(d.approvalTimeoutMs)} (${policy} requires ${d.approvalsRequired} approval(s) from ${from}; ${tally.approvedBy.length} given)${describeIgnored(tally)}; create a new session and ask an approver to approve it in time`,
      };
    default: {
      const message = `waiting for ${d.approvalsRequired - state.have} more approval(s) from ${from} (${policy} requires ${d.approvalsRequired}, ${state.have} given) until ${kubeTime(new Date(deadline))}`
        + `${describeIgnored(tally)}; ${howToApprove(s)}`;
      return { kind: 'wait', message, afterMs: state.afterMs };
    }
  }
}
