/**
 * The requester stamp: who created an ExecSession, as the API server authenticated
 * them, written by the mutating webhook over whatever the user put there, and
 * signed with an HMAC under a key only the operator holds. The signature covers
 * the session's namespace and name, the stamp, every target field and the
 * delegated subject (spec.onBehalfOf, when set), so a stamp
 * cannot be moved to another session or another target, and a session created
 * while the webhook was bypassed carries no valid stamp.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ExecSessionSpec } from '../api/types.js';
import { canonicalJson } from '../signing/hmac.js';

export { canonicalJson } from '../signing/hmac.js';

/** The authenticated identity of a request (authentication.k8s.io UserInfo). */
export interface Requester {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What the webhook writes into spec.requester. */
export interface Stamp extends Requester {
  /** When the webhook stamped the request (RFC 3339). */
  stampedAt: string;
  /** base64 HMAC-SHA256 over the canonical form of the stamp, the session's name and its target. */
  signature: string;
}

/** Why a stamp does not hold. */
export interface StampProblem {
  reason: 'Unsigned' | 'BadSignature';
  message: string;
}

/** The bytes a stamp's signature covers. */
function signedContent(namespace: string, name: string, spec: ExecSessionSpec, requester: Requester, stampedAt: string): string {
  const target = { podName: spec.podName, container: spec.container ?? '', user: spec.user, command: spec.command ?? [], tty: spec.tty ?? true, ttl: spec.ttl ?? '' };
  const who = { username: requester.username, uid: requester.uid ?? '', groups: requester.groups, extra: requester.extra ?? {} };
  // Only when present, so stamps of sessions without delegation keep verifying as before.
  const onBehalfOf = spec.onBehalfOf ? { username: spec.onBehalfOf.username, groups: spec.onBehalfOf.groups ?? [] } : undefined;
  return canonicalJson({ v: 1, namespace, name, target, requester: who, stampedAt, onBehalfOf });
}

/** The session a stamp belongs to. */
export interface StampedSession {
  namespace: string;
  name: string;
  spec: ExecSessionSpec;
}

/** Stamps a request: the requester and when, signed. */
export function makeStamp(key: Buffer, session: StampedSession, requester: Requester, now: Date): Stamp {
  const stampedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = createHmac('sha256', key).update(signedContent(session.namespace, session.name, session.spec, requester, stampedAt)).digest('base64');
  return { username: requester.username, ...(requester.uid ? { uid: requester.uid } : {}), groups: [...requester.groups], ...(requester.extra ? { extra: requester.extra } : {}), stampedAt, signature };
}

/** Checks a session's stamp; undefined when it holds. */
export function verifyStamp(key: Buffer, namespace: string, name: string, spec: ExecSessionSpec & { requester?: Partial<Stamp> }): StampProblem | undefined {
  const s = spec.requester;
  if (!s?.signature || !s.username || !s.stampedAt) {
    return { reason: 'Unsigned', message: 'the session carries no requester stamp from the execsession admission webhook (was it created while the webhook was not installed or bypassed?); delete it and create it again with the webhook in place' };
  }
  const expected = createHmac('sha256', key).update(signedContent(namespace, name, spec, { username: s.username, uid: s.uid, groups: s.groups ?? [], extra: s.extra }, s.stampedAt)).digest();
  const given = Buffer.from(s.signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { reason: 'BadSignature', message: 'the requester stamp does not verify: the session or its stamp was changed after admission; delete it and create it again' };
  }
  return undefined;
}
