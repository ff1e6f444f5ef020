/**
 * Who a session is for: the identity named in spec.onBehalfOf when a trusted
 * creator made it for someone (delegation), else the stamped requester. Only the
 * subject may attach; approvals and policy are about the subject.
 */
import type { ExecSessionSpec } from './types.js';

/** The subject's user name and groups. */
export interface SessionSubject {
  username: string;
  groups: string[];
}

/** The session's subject; the username is empty when the session was never stamped. */
export function sessionSubject(spec: ExecSessionSpec): SessionSubject {
  const delegated = (spec as { onBehalfOf?: { username?: string; groups?: string[] } }).onBehalfOf;
  if (delegated?.username) return { username: delegated.username, groups: delegated.groups ?? [] };
  return { username: spec.requester?.username ?? '', groups: spec.requester?.groups ?? [] };
}
