/**
 * The requester stamp: who created an ExecSession, as the API server authenticated
 * them, written by the mutating webhook over whatever the user put there, and
 * signed with an HMAC under a key only the operator holds (src/signing/hmac.ts,
 * as approvals and the status seal are). The signature covers
 * the session's namespace and name, the stamp, every target field and the
 * delegated subject (spec.onBehalfOf, when set), so a stamp
 * cannot be moved to another session or another target, and a session created
 * while the webhook was bypassed carries no valid stamp. The signed issue time
 * must fall just before the session's creation (checkStampTime), so an old stamp
 * copied onto a re-created session of the same name and target does not hold
 * either (docs/adr/0015-requester-stamp-threat-model.md).
 */
import { sessionRequester } from '../api/subject.js';
import type { ExecSessionSpec, Person } from '../api/types.js';
import { signJson, verifyJson } from './hmac.js';

/** What the webhook writes into spec.requester: the person who made the create request, when, signed. */
export interface Stamp extends Person {
  /** When the webhook stamped the request (RFC 3339). */
  stampedAt: string;
  /** base64 HMAC-SHA256 over the canonical form of the stamp, the session's name and its target. */
  signature: string;
}

/** Why a stamp does not hold. */
export interface StampProblem {
  reason: 'Unsigned' | 'BadSignature' | 'StampReplayed';
  message: string;
}

/**
 * How long before its session's creation a stamp may have been issued. The
 * mutating webhook stamps the create request; kube-apiserver sets
 * metadata.creationTimestamp when it persists the object, after the validating
 * webhooks (ours calls a SubjectAccessReview and lists policies; each webhook may
 * take up to its 10 s timeout). Both times are whole seconds, from two clocks (the
 * operator replica's and kube-apiserver's). 30 s covers that latency, the
 * rounding and ordinary clock skew with room; a stamp older than that was issued
 * for an earlier create request, and is being replayed.
 */
export const STAMP_MAX_AGE_MS = 30_000;

/**
 * How far after its session's creation a stamp may seem to have been issued:
 * only clock skew (the operator's clock ahead of kube-apiserver's) and rounding
 * explain that; more means the stamp was made for another request.
 */
export const STAMP_MAX_SKEW_MS = 5_000;

/** A metav1.Time as the clients give it (a string, or a Date once deserialised); NaN when absent. */
function timeOf(t: string | Date | undefined): number {
  return t instanceof Date ? t.getTime() : Date.parse(t ?? '');
}

const AGAIN = 'delete the session and create it again through the API server, with the execsession admission webhook in place, which stamps each create request afresh';

/**
 * Whether a (verified) stamp was issued for the request that created the
 * session: at most STAMP_MAX_AGE_MS before metadata.creationTimestamp and at
 * most STAMP_MAX_SKEW_MS after it. undefined when it was.
 */
export function checkStampTime(stampedAt: string, creationTimestamp: string | Date | undefined): StampProblem | undefined {
  const stamped = Date.parse(stampedAt);
  const created = timeOf(creationTimestamp);
  if (!Number.isFinite(stamped) || !Number.isFinite(created)) {
    return { reason: 'StampReplayed', message: `the requester stamp's time (${stampedAt}) or the session's creationTimestamp cannot be read, so the stamp cannot be tied to this session's creation; ${AGAIN}` };
  }
  const at = `the requester stamp was issued at ${stampedAt}`;
  const createdAt = new Date(created).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (created - stamped > STAMP_MAX_AGE_MS) {
    return {
      reason: 'StampReplayed',
      message: `${at}, ${Math.round((created - stamped) / 1000)}s before the session was created (${createdAt}); a stamp holds only for the create request it was issued for (within ${STAMP_MAX_AGE_MS / 1000}s), so this one was copied from an earlier session; ${AGAIN}`,
    };
  }
  if (stamped - created > STAMP_MAX_SKEW_MS) {
    return {
      reason: 'StampReplayed',
      message: `${at}, ${Math.round((stamped - created) / 1000)}s after the session was created (${createdAt}), so it was not issued for this session's create request (or the operator's clock is ahead of kube-apiserver's by more than ${STAMP_MAX_SKEW_MS / 1000}s: synchronise them); ${AGAIN}`,
    };
  }
  return undefined;
}

/** What a stamp's signature covers (signed as canonical JSON, src/signing/hmac.ts). */
function signedContent(namespace: string, name: string, spec: ExecSessionSpec, requester: Person, stampedAt: string): object {
  const target = { podName: spec.podName, container: spec.container ?? '', user: spec.user, command: spec.command ?? [], tty: spec.tty ?? true, ttl: spec.ttl ?? '' };
  const who = { username: requester.username, uid: requester.uid ?? '', groups: requester.groups, extra: requester.extra ?? {} };
  // Only when present, so stamps of sessions without delegation keep verifying as before.
  const onBehalfOf = spec.onBehalfOf ? { username: spec.onBehalfOf.username, groups: spec.onBehalfOf.groups ?? [] } : undefined;
  // The absolute end too, likewise only when present (canonicalJson leaves undefined out).
  const notAfter = spec.notAfter ?? undefined;
  return { v: 1, namespace, name, target, requester: who, stampedAt, onBehalfOf, notAfter };
}

/** The session a stamp belongs to. */
export interface StampedSession {
  namespace: string;
  name: string;
  spec: ExecSessionSpec;
}

/** Stamps a request: the requester and when, signed. */
export function makeStamp(key: Buffer, session: StampedSession, requester: Person, now: Date): Stamp {
  const stampedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = signJson(key, signedContent(session.namespace, session.name, session.spec, requester, stampedAt));
  return { username: requester.username, ...(requester.uid ? { uid: requester.uid } : {}), groups: [...requester.groups], ...(requester.extra ? { extra: requester.extra } : {}), stampedAt, signature };
}

/**
 * Checks a session's stamp: its signature, and that it was issued for the
 * request that created the session. undefined when it holds.
 */
export function verifySessionStamp(key: Buffer, s: { metadata: { namespace?: string; name?: string; creationTimestamp?: string | Date }; spec: ExecSessionSpec & { requester?: Partial<Stamp> } }): StampProblem | undefined {
  return verifyStamp(key, s.metadata.namespace ?? '', s.metadata.name ?? '', s.spec)
    ?? checkStampTime(s.spec.requester?.stampedAt ?? '', s.metadata.creationTimestamp);
}

/** Checks a stamp's signature over the session's namespace, name and spec; undefined when it holds. */
export function verifyStamp(key: Buffer, namespace: string, name: string, spec: ExecSessionSpec & { requester?: Partial<Stamp> }): StampProblem | undefined {
  const s = spec.requester;
  if (!s?.signature || !s.username || !s.stampedAt) {
    return { reason: 'Unsigned', message: 'the session carries no requester stamp from the execsession admission webhook (was it created while the webhook was not installed or bypassed?); delete it and create it again with the webhook in place' };
  }
  const content = signedContent(namespace, name, spec, sessionRequester(spec), s.stampedAt);
  if (!verifyJson(key, content, s.signature)) {
    return { reason: 'BadSignature', message: 'the requester stamp does not verify: the session or its stamp was changed after admission; delete it and create it again' };
  }
  return undefined;
}
