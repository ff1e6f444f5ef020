/**
 * Which conditions hold, decided in one pure function from the phase the
 * session is moving to and the facts of the step that moves it. Every status
 * write of the controller goes through it, so all four conditions are written
 * together and say what their names say:
 *
 *   Authorized   True once RBAC and a policy allow (Allowed, or Approved); False
 *                while approvals are awaited and when the session is Denied or
 *                its approvals timed out; Unknown until decided.
 *   HelperReady  True while the helper pod runs (Running, Ready); False before
 *                it starts, while it starts, and once the session ended or the
 *                helper is gone.
 *   Ready        True only in phase Ready (attachable); else False with the
 *                step's reason.
 *   Expired      True in phase Expired; else False.
 */
import { ConditionType, Reason, getCondition, setCondition, type ConditionUpdate, type ReasonName } from '../api/conditions.js';
import { isTerminalPhase, type Condition, type Phase } from '../api/types.js';

/** An authorization decided in this step. */
export type Authorization =
  | { kind: 'allowed'; message: string }
  | { kind: 'approved'; message: string }
  | { kind: 'waiting'; message: string };

/** What the controller knows when it writes status. */
export interface SessionFacts {
  /** The phase the session is in once this status is written. */
  phase: Phase;
  /** The phase it was in before (status.phase as read). */
  from?: Phase;
  /** Why it is in that phase now (for Ready, and a refusal's Authorized). */
  reason: ReasonName;
  /** What happened and what to do, as status.message says it. */
  message: string;
  /** The authorization decided in this step; absent: the last Authorized condition stands. */
  authorization?: Authorization;
}

/** Reasons that end a session because its helper could not run or went away. */
const HELPER_REASONS: readonly ReasonName[] = [Reason.HelperRejected, Reason.HelperUnschedulable, Reason.HelperGone];

/** Reasons that end a session because it was never authorized. */
const REFUSED_REASONS: readonly ReasonName[] = [Reason.ApprovalTimedOut];

/** Phases only an authorized session reaches. */
const STARTED: readonly Phase[] = ['Approved', 'Starting', 'Running', 'Ready'];

function update(type: ConditionUpdate['type'], status: ConditionUpdate['status'], reason: ReasonName, message: string): ConditionUpdate {
  return { type, status, reason, message };
}

function authorized(previous: Condition | undefined, f: SessionFacts): ConditionUpdate {
  const type = ConditionType.Authorized;
  if (f.phase === 'Denied' || REFUSED_REASONS.includes(f.reason)) return update(type, 'False', f.reason, f.message);
  switch (f.authorization?.kind) {
    case 'allowed':
      return update(type, 'True', Reason.Allowed, f.authorization.message);
    case 'approved':
      return update(type, 'True', Reason.Approved, f.authorization.message);
    case 'waiting':
      return update(type, 'False', Reason.WaitingForApproval, f.authorization.message);
    default:
      break;
  }
  // Carried over as the controller wrote it (with a fresh observedGeneration).
  if (previous) return update(type, previous.status, previous.reason as ReasonName, previous.message);
  // A session that started was allowed, though no condition says so yet (one written before every path wrote it).
  if (STARTED.includes(f.phase) || (f.from !== undefined && STARTED.includes(f.from))) {
    return update(type, 'True', Reason.Allowed, 'RBAC and a policy allowed the session, which started');
  }
  const message = isTerminalPhase(f.phase) ? 'the session ended before RBAC and policy were checked' : 'RBAC and policy have not been checked yet';
  return update(type, 'Unknown', Reason.NotDecided, message);
}

function helperReady(f: SessionFacts): ConditionUpdate {
  const type = ConditionType.HelperReady;
  if (isTerminalPhase(f.phase)) {
    if (HELPER_REASONS.includes(f.reason)) return update(type, 'False', f.reason, f.message);
    return update(type, 'False', Reason.SessionEnded, `the session ended (${f.phase}); its helper pod is removed`);
  }
  switch (f.phase) {
    case 'Starting':
      return update(type, 'False', Reason.HelperStarting, f.message);
    case 'Running':
    case 'Ready':
      return update(type, 'True', Reason.HelperRunning, 'the helper pod runs on the target\'s node');
    default:
      return update(type, 'False', Reason.HelperNotStarted, 'no helper pod yet: the session has not started');
  }
}

function ready(f: SessionFacts): ConditionUpdate {
  return f.phase === 'Ready'
    ? update(ConditionType.Ready, 'True', Reason.SessionReady, f.message)
    : update(ConditionType.Ready, 'False', f.reason, f.message);
}

function expired(f: SessionFacts): ConditionUpdate {
  const type = ConditionType.Expired;
  if (f.phase === 'Expired') return update(type, 'True', f.reason, f.message);
  if (isTerminalPhase(f.phase)) return update(type, 'False', Reason.TtlNotElapsed, `the session ended (${f.phase}) before its ttl elapsed`);
  return update(type, 'False', Reason.TtlNotElapsed, 'the session\'s ttl has not elapsed');
}

/** The session's conditions after this step: all four, from the phase and the facts; the input is not changed. */
export function sessionConditions(previous: readonly Condition[] | undefined, f: SessionFacts, generation: number, now: Date): Condition[] {
  const updates = [authorized(getCondition(previous, ConditionType.Authorized), f), helperReady(f), ready(f), expired(f)];
  return updates.reduce<Condition[]>((list, u) => setCondition(list, u, generation, now), [...(previous ?? [])]);
}
