// Condition types, reasons and the one helper that writes them. Reasons are
// typed: a condition whose reason is not one of these does not compile. Which
// conditions hold in which phase is decided in src/controller/conditions.ts.
import type { Condition, ConditionStatus } from './types.js';

/** Condition types an ExecSession reports, one entry each in status.conditions. */
export const ConditionType = {
  /** RBAC and policy allow the session (False: denied or awaiting approval; Unknown: not decided yet). */
  Authorized: 'Authorized',
  /** The helper pod that enters the container is running (False before it starts and once it is gone). */
  HelperReady: 'HelperReady',
  /** The session can be attached to. */
  Ready: 'Ready',
  /** The ttl has elapsed (or the approvals did not come in time). */
  Expired: 'Expired',
} as const;

/** The condition of an ExecPolicy or ClusterExecPolicy (src/controller/policy-status.ts). */
export const PolicyConditionType = {
  /** validatePolicy found no problem; an invalid policy allows nothing. */
  Valid: 'Valid',
} as const;

/** One of the {@link ConditionType} or {@link PolicyConditionType} values. */
export type ConditionTypeName =
  | (typeof ConditionType)[keyof typeof ConditionType]
  | (typeof PolicyConditionType)[keyof typeof PolicyConditionType];

/** CamelCase reasons of policy denials (src/policy/checks.ts); also condition reasons. */
export const PolicyReason = {
  NoPolicy: 'NoPolicy',
  CreatorNotTrusted: 'CreatorNotTrusted',
  InvalidUserSpec: 'InvalidUserSpec',
  RootUserDenied: 'RootUserDenied',
  RootGroupDenied: 'RootGroupDenied',
  UserDenied: 'UserDenied',
  UserNotAllowed: 'UserNotAllowed',
  GroupDenied: 'GroupDenied',
  GroupNotAllowed: 'GroupNotAllowed',
  TtlTooLong: 'TtlTooLong',
  InteractiveNotAllowed: 'InteractiveNotAllowed',
  CommandNotAllowed: 'CommandNotAllowed',
} as const;

/** One of the {@link PolicyReason} values. */
export type PolicyReasonName = (typeof PolicyReason)[keyof typeof PolicyReason];

/** Reasons of a policy's Valid condition. */
export const PolicyConditionReason = {
  Valid: 'Valid',
  Invalid: 'Invalid',
} as const;

/** CamelCase reasons for condition transitions: every reason a condition the operator writes may carry. */
export const Reason = {
  ...PolicyReason,
  ...PolicyConditionReason,
  /** RBAC refused: the subject may not create pods/exec on the target. */
  RbacDenied: 'RbacDenied',
  /** RBAC and a policy allow the session, without approvals. */
  Allowed: 'Allowed',
  /** Not decided yet, or never: the session ended before it was authorized. */
  NotDecided: 'NotDecided',
  /** spec.user or spec.ttl cannot be read (the webhook refuses these; a session admitted without it may carry them). */
  InvalidSpec: 'InvalidSpec',
  PodNotFound: 'PodNotFound',
  ContainerNotFound: 'ContainerNotFound',
  PodNotRunning: 'PodNotRunning',
  NodeNotReady: 'NodeNotReady',
  UserNotFound: 'UserNotFound',
  HelperRejected: 'HelperRejected',
  HelperUnschedulable: 'HelperUnschedulable',
  RuntimeNotFound: 'RuntimeNotFound',
  /** The helper ran, but the target could not be inspected through it within the start timeout (ADR 40). */
  InspectTimedOut: 'InspectTimedOut',
  HelperStarting: 'HelperStarting',
  /** No helper pod yet: the session has not started. */
  HelperNotStarted: 'HelperNotStarted',
  /** The helper pod runs on the target's node. */
  HelperRunning: 'HelperRunning',
  /** The helper pod was deleted or evicted while the session was live. */
  HelperGone: 'HelperGone',
  /** The session ended: its helper pod is removed. */
  SessionEnded: 'SessionEnded',
  SessionReady: 'SessionReady',
  /** A non-interactive command runs: the session is not attachable. */
  CommandRunning: 'CommandRunning',
  TtlElapsed: 'TtlElapsed',
  /** spec.notAfter, the absolute end the session carried from its creation, has passed. */
  NotAfterPassed: 'NotAfterPassed',
  /** The session has not expired (not started, live, or ended otherwise). */
  TtlNotElapsed: 'TtlNotElapsed',
  Deleted: 'Deleted',
  /** The target container was restarted or deleted: the session's processes went with it. */
  TargetGone: 'TargetGone',
  CommandSucceeded: 'CommandSucceeded',
  CommandFailed: 'CommandFailed',
  /** The one-shot command must be recorded (recording: Required) and the store cannot be written: it never ran (ADR 43). */
  RecordingUnavailable: 'RecordingUnavailable',
  /** The one-shot command ran, but its recording (recording: Required) could not be stored whole (ADR 43). */
  RecordingFailed: 'RecordingFailed',
  /** The session has no requester stamp from the admission webhook. */
  Unsigned: 'Unsigned',
  /** The requester stamp does not verify: the session changed after admission. */
  BadSignature: 'BadSignature',
  /** The requester stamp was issued for an earlier create request: copied onto a re-created session. */
  StampReplayed: 'StampReplayed',
  /** The policy requires approvals that have not all been given yet. */
  WaitingForApproval: 'WaitingForApproval',
  /** Enough approvers approved. */
  Approved: 'Approved',
  /** An approver denied the session. */
  ApprovalDenied: 'ApprovalDenied',
  /** Not enough approvals within the policy's approval.timeout. */
  ApprovalTimedOut: 'ApprovalTimedOut',
  /** Only once the user was resolved did the session need approvals it does not have. */
  ApprovalRequired: 'ApprovalRequired',
  /** Someone ended the session early through the revoke subresource. */
  Revoked: 'Revoked',
  /** The session's process is too large to exec (E2BIG): its command and the container's environment. */
  ArgumentListTooLong: 'ArgumentListTooLong',
  /** The target is in the operator's own namespace, where no session may go. */
  OperatorNamespace: 'OperatorNamespace',
  /** Someone other than the operator wrote a status field it acts on: status.seal does not verify. */
  StatusTampered: 'StatusTampered',
} as const;

/** One of the {@link Reason} values. */
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/** The caller-supplied part of a condition; times and generation are filled in. */
export interface ConditionUpdate {
  type: ConditionTypeName;
  status: ConditionStatus;
  reason: ReasonName;
  message: string;
}

/**
 * Formats a time the way the API server stores metav1.Time: RFC 3339 in UTC
 * with whole seconds. Dropping milliseconds keeps what we write equal to what
 * we read back, so unchanged status compares equal and is not rewritten.
 */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Returns the condition of the given type, or undefined when absent. */
export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Returns a new condition list with `next` set, replacing any condition of the
 * same type in place (order is stable, so status diffs stay small).
 * `lastTransitionTime` is kept when the status did not change, so it tells
 * when the state flipped rather than when we last looked; `observedGeneration`
 * is always updated so readers can tell a stale condition from a fresh one.
 * The input is never mutated.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  generation: number,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const previous = getCondition(list, next.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status
      ? previous.lastTransitionTime
      : kubeTime(now);
  const condition: Condition = {
    type: next.type,
    status: next.status,
    observedGeneration: generation,
    lastTransitionTime,
    reason: next.reason,
    message: next.message,
  };
  if (previous === undefined) return [...list, condition];
  return list.map((c) => (c.type === next.type ? condition : { ...c }));
}
