/**
 * Who a session is for: the identity named in spec.onBehalfOf when a trusted
 * creator made it for someone (delegation), else the stamped requester. Only the
 * subject may attach; approvals, policy and the RBAC check are about the subject.
 * Trust it only once the stamp verified (verifyStamp in src/signing/stamp.ts),
 * which covers both fields.
 */
import type { ExecSessionSpec, Person } from './types.js';

/** The session's subject (uid and extra only for a stamped requester); the username is empty when the session was never stamped. */
export function sessionSubject(spec: Pick<ExecSessionSpec, 'requester' | 'onBehalfOf'>): Person {
  if (spec.onBehalfOf?.username) return { username: spec.onBehalfOf.username, groups: [...(spec.onBehalfOf.groups ?? [])] };
  return sessionRequester(spec);
}

/** The stamped creator of the session, delegated or not. */
export function sessionRequester(spec: Pick<ExecSessionSpec, 'requester'>): Person {
  const r = spec.requester;
  return {
    username: r?.username ?? '',
    groups: [...(r?.groups ?? [])],
    ...(r?.uid ? { uid: r.uid } : {}),
    ...(r?.extra ? { extra: r.extra } : {}),
  };
}
