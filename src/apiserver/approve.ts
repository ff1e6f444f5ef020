/**
 * The `approve` and `deny` subresources. kube-apiserver has authenticated the
 * caller and checked RBAC (create on execsessions/approve or /deny); here the
 * policy decides: the caller must match the current decision's approvers and,
 * when the policy blocks self-approval, must not be the session's subject or
 * requester. The decision is appended to status.approvals, signed with the
 * operator's key, and the controller takes it from there. See
 * docs/adr/0009-approvals-signed-in-status.md.
 */
import { kubeTime } from '../api/conditions.js';
import { sessionRequester } from '../api/subject.js';
import { isTerminalPhase, type ApprovalDecision, type ExecSession } from '../api/types.js';
import {
  approvalDeadline, approverProblem, signApproval, tallyApprovals, verifyApproval, type ApprovalTerms, type SessionRef,
} from '../approval/approvals.js';
import { Authorizer, approvalTerms, authzRequestOf } from '../authz/authorizer.js';
import { classifyApiError } from '../k8s/api-errors.js';
import { ApiError, reasonOf, type Action, type ActionContext } from './types.js';

/** Concurrent approvers conflict on the list; each retry re-reads and re-checks. */
const ATTEMPTS = 4;

function describe(ctx: ActionContext): string {
  return `execsession ${ctx.namespace}/${ctx.name}`;
}

/** The session, if it is waiting for approval; else the error saying why not. */
async function waitingSession(ctx: ActionContext): Promise<ExecSession> {
  const s = await ctx.kube.getSession(ctx.namespace, ctx.name);
  if (!s) throw new ApiError(404, 'NotFound', `${describe(ctx)} not found`);
  const phase = s.status?.phase;
  if (isTerminalPhase(phase)) {
    throw new ApiError(410, 'Ended', `${describe(ctx)} has already ended (${phase}${s.status?.message ? `: ${s.status.message}` : ''})`);
  }
  if (phase !== 'WaitingForApproval') {
    throw new ApiError(409, 'NotWaitingForApproval', `${describe(ctx)} is ${phase ?? 'Pending'}, not WaitingForApproval: only a session held for approval can be approved or denied (see kubectl get execsession ${ctx.name} -n ${ctx.namespace})`);
  }
  return s;
}

/** The approval terms of the session's current decision (policies and RBAC may have changed). */
async function currentTerms(ctx: ActionContext, s: ExecSession): Promise<{ terms: ApprovalTerms; deadline: number }> {
  const d = await new Authorizer(ctx.kube).authorize(authzRequestOf(s));
  if (!d.allowed) {
    throw new ApiError(409, 'NoLongerAllowed', `${describe(ctx)} is no longer allowed (${d.reason}: ${d.message}); the operator will deny it, so there is nothing to approve`);
  }
  if (d.approvalsRequired === 0) {
    throw new ApiError(409, 'NoApprovalRequired', `${describe(ctx)} needs no approval under the current policy; the operator will start it`);
  }
  return { terms: approvalTerms(d, sessionRequester(s.spec)), deadline: approvalDeadline(s, d.approvalTimeoutMs, ctx.now) };
}

/** One attempt: check everything against the session as read, then append with its resourceVersion. */
async function tryDecide(ctx: ActionContext, decision: ApprovalDecision, reason: string | undefined): Promise<ExecSession> {
  const s = await waitingSession(ctx);
  const { terms, deadline } = await currentTerms(ctx, s);
  const who = { username: ctx.caller.username, groups: ctx.caller.groups };
  const problem = approverProblem(who, terms);
  if (problem) throw new ApiError(403, problem.reason, `${problem.message} (${describe(ctx)})`);
  if (ctx.now.getTime() > deadline) {
    throw new ApiError(409, 'ApprovalTimedOut', `${describe(ctx)} stopped waiting for approval at ${kubeTime(new Date(deadline))}; the operator ends it, and a new session must be asked for`);
  }
  const ref: SessionRef = { namespace: ctx.namespace, name: ctx.name, uid: s.metadata.uid ?? '' };
  const approvals = s.status?.approvals ?? [];
  const mine = approvals.find((a) => a.username === who.username && verifyApproval(ctx.stampKey, ref, a));
  if (mine) throw new ApiError(409, 'AlreadyDecided', `user ${JSON.stringify(who.username)} already ${mine.decision === 'Approved' ? 'approved' : 'denied'} ${describe(ctx)} at ${mine.at}; a decision cannot be changed`);
  const record = signApproval(ctx.stampKey, ref, { decision, who, at: kubeTime(ctx.now), reason });
  const updated = await ctx.kube.patchSessionStatus(ctx.namespace, ctx.name, { approvals: [...approvals, record] }, s.metadata.resourceVersion);
  const counted = tallyApprovals(ctx.stampKey, ref, updated.status?.approvals, terms, deadline).approvedBy.length;
  const message = decision === 'Approved'
    ? `approved by ${who.username} (${counted} of ${terms.required} approval(s))${reason ? `: ${reason}` : ''}`
    : `denied by ${who.username}${reason ? `: ${reason}` : ''}`;
  await ctx.kube.recordEvent(updated, { type: decision === 'Approved' ? 'Normal' : 'Warning', reason: decision === 'Approved' ? 'ApprovalGiven' : 'ApprovalDenied', message }).catch(() => undefined);
  return updated;
}

async function decide(ctx: ActionContext, decision: ApprovalDecision): Promise<ExecSession> {
  const reason = reasonOf(ctx.body);
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryDecide(ctx, decision, reason);
    } catch (e) {
      // Someone else changed the session between our read and write: read it again and re-check.
      if (classifyApiError(e) !== 'conflict' || attempt >= ATTEMPTS) throw e;
    }
  }
}

/** Records the caller's approval of a session waiting for it. */
export const approve: Action = (ctx) => decide(ctx, 'Approved');

/** Records the caller's denial: the controller ends the session Denied (ApprovalDenied). */
export const deny: Action = (ctx) => decide(ctx, 'Denied');
