/**
 * Who a session is for: the identity named in spec.onBehalfOf when a trusted
 * creator made it for someone (delegation), else the stamped requester. Only the
 * subject may attach; approvals, policy and the RBAC check are about the subject.
 * Trust it only once the stamp verified (verifyStamp in src/signing/stamp.ts),
 * which covers both fields.
 */
import type { ExecSessionSpec } from './types.js';

/** The subject's user name and groups (uid and extra only for a stamped requester). */
export interface SessionSubject {
  username: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** The session's subject; the username is empty when the session was never stamped. */
export function sessionSubject(spec: Pick<ExecSessionSpec, 'requester' | 'onBehalfOf'>): SessionSubject {
  if (spec.onBehalfOf?.username) return { username: spec.onBehalfOf.username, groups: [...(spec.onBehalfOf.groups ?? [])] };
  return sessionRequester(spec);
}

/** The stamped creator of the session, delegated or not. */
export function sessionRequester(spec: Pick<ExecSessionSpec, 'requester'>): SessionSubject {
  const r = spec.requester;
  return {
    username: r?.username ?? '',
    groups: [...(r?.groups ?? [])],
    ...(r?.uid ? { uid: r.uid } : {}),
    ...(r?.extra ? { extra: r.extra } : {}),
  };
}
