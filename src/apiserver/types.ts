/**
 * What the aggregated API's request handlers get and give back. The server
 * (server.ts) authenticates the front proxy, parses the path, and hands each
 * POST subresource to its action with the caller's forwarded identity.
 */
import type { ExecSession, Person } from '../api/types.js';
import type { Kube } from '../k8s/kube.js';

/** Everything a POST subresource action needs. */
export interface ActionContext {
  kube: Kube;
  /** The caller, as kube-apiserver authenticated it and forwarded it (X-Remote-*). */
  caller: Person;
  namespace: string;
  name: string;
  /** The parsed JSON body ({} when empty). */
  body: Record<string, unknown>;
  /** HMAC key for signing what the API writes into status (the stamp key). */
  stampKey: Buffer;
  now: Date;
}

/** A refusal or failure: becomes a metav1.Status with this code and reason. */
export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

/** The longest reason kept (status and the CRD allow this much). */
export const MAX_REASON = 1024;

/** body.reason of approve, deny and revoke: optional, a string of at most MAX_REASON characters. */
export function reasonOf(body: Record<string, unknown>): string | undefined {
  const r = body.reason;
  if (r === undefined || r === null || r === '') return undefined;
  if (typeof r !== 'string') throw new ApiError(400, 'BadRequest', 'reason must be a string, e.g. {"reason": "INC-1234 checked"}');
  if (r.length > MAX_REASON) throw new ApiError(400, 'BadRequest', `reason is ${r.length} characters; keep it to ${MAX_REASON}`);
  return r;
}

/** A POST subresource: returns the updated session, or throws ApiError. */
export type Action = (ctx: ActionContext) => Promise<ExecSession>;
