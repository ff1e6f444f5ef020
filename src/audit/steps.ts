/**
 * The audit event of each step, built from what the step wrote (status
 * timestamps), so that the same step done twice (a retry, a new leader) gives
 * the same event id. Each emission point calls one of these.
 */
import { sessionRequester } from '../api/subject.js';
import type { ApprovalRecord, ExecSession, Person } from '../api/types.js';
import type { PolicyRef } from '../policy/types.js';
import { OPERATOR, auditId, auditTime, sessionEvent, userActor, AUDIT_API_VERSION, AUDIT_KIND, type AuditEvent } from './event.js';

/** `ClusterExecPolicy/developers`, `ExecPolicy/team-a/ops`. */
export function policyLabel(ref: PolicyRef | undefined): string | undefined {
  return ref ? `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}` : undefined;
}

/** The session exists: asked for by its requester (time: its creation). */
export function requested(s: ExecSession): AuditEvent {
  return sessionEvent(s, 'requested', 'created', {
    actor: userActor(sessionRequester(s.spec)), time: s.metadata.creationTimestamp ? auditTime(new Date(s.metadata.creationTimestamp)) : auditTime(new Date()),
    reason: s.spec.reason, command: s.spec.command?.length ? [...s.spec.command] : undefined,
  });
}

/** The session's process can run: Ready (attach) or Running (one-shot), from status.startedAt. */
export function started(s: ExecSession, policy: PolicyRef | undefined, now: Date): AuditEvent {
  const at = s.status?.startedAt ?? auditTime(now);
  return sessionEvent(s, 'started', at, {
    actor: OPERATOR, time: at, phase: s.status?.phase, policy: policyLabel(policy), expiresAt: s.status?.expiresAt,
    command: s.spec.tty === false && s.spec.command?.length ? [...s.spec.command] : undefined,
  });
}

/**
 * The session reached its terminal phase (`s` as written): `denied` or `expired`
 * (or a one-shot's `result`) first, when that is why, then `ended`, once per session.
 */
export function ending(s: ExecSession, reason: string, message: string): AuditEvent[] {
  const st = s.status ?? {};
  const time = st.endedAt ?? auditTime(new Date());
  const phase = st.phase;
  const by = reason === 'Revoked' ? st.revocation?.username : reason === 'ApprovalDenied' ? deniedBy(st.approvals) : undefined;
  const common = { actor: OPERATOR, time, phase, reason, message, by };
  const out: AuditEvent[] = [];
  if (phase === 'Denied') out.push(sessionEvent(s, 'denied', 'terminal', common));
  if (phase === 'Expired') out.push(sessionEvent(s, 'expired', 'terminal', { ...common, expiresAt: st.expiresAt }));
  if (st.result) out.push(sessionEvent(s, 'result', 'terminal', { ...common, exitCode: st.result.exitCode }));
  out.push(sessionEvent(s, 'ended', 'terminal', { ...common, exitCode: st.result?.exitCode }));
  return out;
}

function deniedBy(approvals: ApprovalRecord[] | undefined): string | undefined {
  return approvals?.find((a) => a.decision === 'Denied')?.username;
}

/** An approver's decision, as recorded (and signed) in status.approvals. */
export function approvalDecided(s: ExecSession, record: ApprovalRecord): AuditEvent {
  const type = record.decision === 'Approved' ? 'approved' : 'approvalDenied';
  return sessionEvent(s, type, record.username, { actor: userActor(record), time: record.at, reason: record.reason });
}

/** A revocation, as recorded in status.revocation (the controller then ends the session). */
export function revokedBy(s: ExecSession): AuditEvent {
  const r = s.status?.revocation;
  const at = r?.at ?? auditTime(new Date());
  return sessionEvent(s, 'revoked', 'revocation', { actor: userActor({ username: r?.username ?? '' }), time: at, reason: r?.reason });
}

/** An extension to `s.status.expiresAt` (as written). */
export function extendedBy(s: ExecSession, caller: Person, by: string, now: Date): AuditEvent {
  const expiresAt = s.status?.expiresAt ?? '';
  return sessionEvent(s, 'extended', expiresAt, { actor: userActor(caller), time: auditTime(now), extendedBy: by, expiresAt });
}

/** One attach: `attach` names it (attached, detached and recordingStored share it). */
export function attachStep(s: ExecSession, type: 'attached' | 'detached', attach: string, caller: Person, f: { command: string[]; exitCode?: number; endedBy?: string; now: Date }): AuditEvent {
  return sessionEvent(s, type, attach, {
    actor: userActor(caller), time: auditTime(f.now), attach, command: [...f.command], exitCode: f.exitCode, endedBy: f.exitCode === undefined ? f.endedBy : undefined,
  });
}

/** An attach's recording is complete in the store. */
export function recordingStored(s: ExecSession, attach: string, recording: string, now: Date): AuditEvent {
  return sessionEvent(s, 'recordingStored', recording, { actor: OPERATOR, time: auditTime(now), attach, recording });
}

/** What a refusal at admission is built from (no session exists: kube-apiserver's request names it). */
export interface AdmissionDenial {
  requestUID: string;
  namespace: string;
  name: string;
  requester: Person;
  subject: string;
  containerUser: string;
  pod: string;
  container?: string;
  policy?: PolicyRef;
  reason: string;
  message: string;
  now: Date;
}

/**
 * A CREATE the webhook refused (policy, RBAC, the operator's namespace): `requested`
 * by the requester, then `denied` by the operator, as for a session the controller denies.
 */
export function admissionDenied(d: AdmissionDenial): AuditEvent[] {
  const base = {
    apiVersion: AUDIT_API_VERSION, kind: AUDIT_KIND, time: auditTime(d.now),
    session: { namespace: d.namespace, name: d.name, uid: '' }, subject: d.subject,
    containerUser: { spec: d.containerUser }, pod: d.pod, ...(d.container ? { container: d.container } : {}), requestUID: d.requestUID,
  } as const;
  return [
    { ...base, id: auditId(d.requestUID, 'requested', 'admission'), type: 'requested', actor: userActor(d.requester) },
    {
      ...base, id: auditId(d.requestUID, 'denied', 'admission'), type: 'denied', actor: OPERATOR,
      ...(d.policy ? { policy: policyLabel(d.policy) } : {}), phase: 'Denied', reason: d.reason, message: d.message,
    },
  ];
}
