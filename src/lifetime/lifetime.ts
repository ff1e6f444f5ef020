/**
 * Where a session's lifetime is decided, once (docs/adr/0019-lifetime-decided-once.md).
 * Everything that needs it asks here: the policy check and its decision (the
 * ttl), the reconciler (decides and records the lifetime, ends the session at
 * its expiry), the helper pod (its deadlines), attach (ends attaches at expiry)
 * and extend (moves the expiry within what was recorded).
 *
 * - The ttl is spec.ttl, else the policy's ttl.default, else FALLBACK_TTL
 *   (capped at the policy's ttl.max). Nothing else fills in a default: not the
 *   CRD, not the CLI. The policy's ttl.max is a check (policy/checks.ts).
 * - When the session starts, its lifetime (startedAt, expiresAt and
 *   extendableUntil) is written to status, sealed, before the helper pod is
 *   made from it; a start that runs again reuses what status records.
 */
import { kubeTime } from '../api/conditions.js';
import { MAX_DURATION_MS, parseDuration } from '../api/duration.js';
import type { ExecSessionStatus } from '../api/types.js';

/**
 * The ttl of a session that sets none, under a policy that sets no ttl.default
 * (the policy's ttl.max when that is shorter). The only ttl default there is.
 */
export const FALLBACK_TTL = '15m';

/** The longest a session lasts from its start, extensions included, whatever its policy says: 168h. */
export const MAX_LIFETIME_MS = MAX_DURATION_MS;

/** What a policy says about lifetimes, in milliseconds. */
export interface TtlTerms {
  /** ttl.default, when the policy sets one. */
  defaultTtlMs?: number;
  /** ttl.max (with its own default applied): how long a session may last in all. */
  maxTtlMs: number;
}

/** The session's ttl: spec.ttl, else the policy's ttl.default, else FALLBACK_TTL or ttl.max, whichever is shorter. */
export function sessionTtlMs(specTtlMs: number | undefined, terms: TtlTerms): number {
  return specTtlMs ?? terms.defaultTtlMs ?? Math.min(parseDuration(FALLBACK_TTL), terms.maxTtlMs);
}

/** A started session's lifetime, as status records it. */
export interface Lifetime {
  startedAt: Date;
  expiresAt: Date;
  /**
   * The latest expiresAt an extend may set: the start plus the policy's ttl.max
   * when it started (the helper pod's kubelet deadline is made from it and
   * cannot grow). Absent in sessions an older operator started.
   */
  extendableUntil?: Date;
}

/** The next whole second at or after `ms`: recorded times are whole seconds and never early. */
function wholeSecondUp(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

/**
 * The lifetime of a session starting at `start` with the ttl and ttl.max of its
 * policy decision: in whole seconds, never early, and for a ttl of whole seconds
 * expiresAt - startedAt is exactly the ttl.
 */
export function decideLifetime(start: Date, ttlMs: number, maxTtlMs: number): Required<Lifetime> {
  const startedAt = wholeSecondUp(start.getTime());
  return {
    startedAt: new Date(startedAt),
    expiresAt: new Date(wholeSecondUp(startedAt + ttlMs)),
    extendableUntil: new Date(wholeSecondUp(startedAt + Math.min(Math.max(ttlMs, maxTtlMs), MAX_LIFETIME_MS))),
  };
}

/** The lifetime status records, if it records one (check the seal first: only the operator's counts). */
export function recordedLifetime(status: ExecSessionStatus | undefined): Lifetime | undefined {
  const startedAt = Date.parse(status?.startedAt ?? '');
  const expiresAt = Date.parse(status?.expiresAt ?? '');
  if (!Number.isFinite(startedAt) || !Number.isFinite(expiresAt)) return undefined;
  const until = Date.parse(status?.extendableUntil ?? '');
  return { startedAt: new Date(startedAt), expiresAt: new Date(expiresAt), ...(Number.isFinite(until) ? { extendableUntil: new Date(until) } : {}) };
}

/** The status fields that record a lifetime. */
export function lifetimeStatus(l: Lifetime): Pick<ExecSessionStatus, 'startedAt' | 'expiresAt' | 'extendableUntil'> {
  return { startedAt: kubeTime(l.startedAt), expiresAt: kubeTime(l.expiresAt), ...(l.extendableUntil ? { extendableUntil: kubeTime(l.extendableUntil) } : {}) };
}

/** When the session expires (epoch ms), or undefined before it has started. */
export function expiresAtMs(status: Pick<ExecSessionStatus, 'expiresAt'> | undefined): number | undefined {
  const at = Date.parse(status?.expiresAt ?? '');
  return Number.isFinite(at) ? at : undefined;
}

/** Milliseconds until expiry: zero or less when expired, infinite before the session has started. */
export function remainingMs(status: Pick<ExecSessionStatus, 'expiresAt'> | undefined, now: Date): number {
  return (expiresAtMs(status) ?? Number.POSITIVE_INFINITY) - now.getTime();
}

/** Whether the session's recorded expiry has passed. */
export function hasExpired(status: Pick<ExecSessionStatus, 'expiresAt'> | undefined, now: Date): boolean {
  return remainingMs(status, now) <= 0;
}

/** An extension by `byMs`: the new expiry, and how long the session then lasts from its start (and lasts now). */
export function extended(l: Lifetime, byMs: number): { expiresAt: Date; lifetimeMs: number; currentMs: number } {
  const expiresAt = new Date(l.expiresAt.getTime() + byMs);
  return { expiresAt, lifetimeMs: expiresAt.getTime() - l.startedAt.getTime(), currentMs: l.expiresAt.getTime() - l.startedAt.getTime() };
}
