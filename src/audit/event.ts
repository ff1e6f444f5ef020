/**
 * The operator's audit events: one JSON object per lifecycle step of a session,
 * in a versioned schema (docs/audit.md, "Audit events"; ADR 39). A leaf: the
 * controller, the webhook and the aggregated API build events here and hand
 * them to an Auditor (auditor.ts), which writes them to the log and a sink.
 */
import { createHash } from 'node:crypto';
import { sessionSubject } from '../api/subject.js';
import type { ExecSession } from '../api/types.js';

/** The schema's version. A change that removes or retypes a field gets a new version. */
export const AUDIT_API_VERSION = 'audit.execsession.dev/v1';
export const AUDIT_KIND = 'Event';

/** The steps, in the order a session can go through them. */
export const AUDIT_TYPES = [
  'requested', 'denied', 'approved', 'approvalDenied', 'started', 'attached', 'detached',
  'result', 'extended', 'revoked', 'expired', 'ended', 'recordingStored',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** Who did the step: a user (as kube-apiserver authenticated them) or the operator itself. */
export interface AuditActor {
  kind: 'user' | 'operator';
  username: string;
  groups?: string[];
}

/** The operator as an actor (expiry, denials, starts, endings). */
export const OPERATOR: AuditActor = { kind: 'operator', username: 'execsession-operator' };

/** One audit event. Optional fields are absent, never null, when not known for the step. */
export interface AuditEvent {
  apiVersion: typeof AUDIT_API_VERSION;
  kind: typeof AUDIT_KIND;
  /** Stable for one transition: a replay of the same step has the same id (readers drop duplicates by it). */
  id: string;
  type: AuditType;
  /** When the step happened (from status where status records it), RFC 3339 UTC. */
  time: string;
  /** uid empty for a session refused at admission (it never existed). */
  session: { namespace: string; name: string; uid: string };
  /** Whom the session is for (spec.onBehalfOf, else the requester). */
  subject: string;
  actor: AuditActor;
  /** spec.user as written, and what it resolved to in the container once known. */
  containerUser: { spec: string; name?: string; uid?: number; gid?: number };
  pod: string;
  container?: string;
  /** `ClusterExecPolicy/NAME` or `ExecPolicy/NS/NAME`, where the step knows it. */
  policy?: string;
  /** The phase the step left the session in, where it changed it. */
  phase?: string;
  /** A CamelCase reason (denials, endings) or the user's reason (approvals, revocations). */
  reason?: string;
  message?: string;
  command?: string[];
  exitCode?: number;
  /** For an attach that ended without an exit code: why (`Expired`, `Revoked`, `Disconnected`, ...). */
  endedBy?: string;
  /** Who caused an ending the operator carried out: the revoker, the approver who denied. */
  by?: string;
  /** An extension: by how much (`15m`). */
  extendedBy?: string;
  /** The session's expiry after the step (started, extended). */
  expiresAt?: string;
  /** A refusal at admission: kube-apiserver's admission request uid (the session never existed, so it has no uid). */
  requestUID?: string;
  /** An attach's number (1, 2, ...), shared by attached, detached and recordingStored. */
  attach?: string;
  /** Where a recording is: `STORE NAMESPACE/NAME/UID/attach-N.cast`. */
  recording?: string;
}

/** Fields a step adds to the session's own. */
export type AuditFields = Partial<Omit<AuditEvent, 'apiVersion' | 'kind' | 'id' | 'type' | 'session' | 'subject' | 'containerUser' | 'pod'>>;

/** The stable id of a step: sha256 of session uid (or admission request uid), type and the transition's identity. */
export function auditId(sessionKey: string, type: AuditType, transition: string): string {
  return createHash('sha256').update(`${sessionKey}\n${type}\n${transition}`).digest('hex').slice(0, 32);
}

/**
 * The event of step `type` of session `s`. `transition` names this occurrence of
 * the step (a status timestamp, an attach number), so that the same transition
 * reconciled twice gives the same id.
 */
export function sessionEvent(s: ExecSession, type: AuditType, transition: string, fields: AuditFields & { actor: AuditActor; time: string }): AuditEvent {
  const { namespace = '', name = '', uid = '' } = s.metadata;
  const u = s.status?.user;
  const container = s.status?.container ?? s.spec.container;
  return {
    apiVersion: AUDIT_API_VERSION, kind: AUDIT_KIND, id: auditId(uid || `${namespace}/${name}`, type, transition), type,
    session: { namespace, name, uid }, subject: sessionSubject(s.spec).username,
    containerUser: { spec: s.spec.user, ...(u ? { ...(u.name ? { name: u.name } : {}), uid: u.uid, gid: u.gid } : {}) },
    pod: s.spec.podName, ...(container ? { container } : {}), ...dropUndefined(fields),
  } as AuditEvent;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A user as an actor. */
export function userActor(p: { username: string; groups?: string[] }): AuditActor {
  return { kind: 'user', username: p.username, ...(p.groups?.length ? { groups: [...p.groups] } : {}) };
}

/** RFC 3339 UTC, whole seconds, as Kubernetes writes times. */
export function auditTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Keeps the first event of each id, in order: what a reader of an at-least-once stream does. */
export function dedupe(events: Iterable<AuditEvent>): AuditEvent[] {
  const seen = new Set<string>();
  const out: AuditEvent[] = [];
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out;
}

/** Parses JSON Lines of audit events, skipping lines that are not one of this version. */
export function parseAuditLines(text: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Partial<AuditEvent>;
      if (e.apiVersion === AUDIT_API_VERSION && e.kind === AUDIT_KIND && typeof e.id === 'string') out.push(e as AuditEvent);
    } catch {
      // A line cut by a crash mid-append: skipped, the rest still reads.
    }
  }
  return out;
}
