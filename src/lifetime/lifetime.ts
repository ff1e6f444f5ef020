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
 * - spec.notAfter, when set, is an absolute end the session carries from its
 *   creation (docs/adr/0025-not-after.md): admission refuses a session whose
 *   notAfter has passed, expiresAt and extendableUntil never go past it, and a
 *   session that has not started by then ends without starting.
 */
import { kubeTime } from '../api/conditions.js';
import { MAX_DURATION_MS, parseDuration } from '../api/duration.js';
import type { ExecSessionSpec, ExecSessionStatus } from '../api/types.js';

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

// RFC 3339 date-time, as the CRD's `format: date-time` and metav1.Time write it (upper- or lower-case T and Z).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * spec.notAfter as epoch ms, rounded down to a whole second (so nothing recorded
 * from it is ever later), or undefined when unset. One that cannot be read counts
 * as already passed: it can only end a session, never lengthen one (fail closed).
 */
export function notAfterMs(spec: Pick<ExecSessionSpec, 'notAfter'>): number | undefined {
  const given = spec.notAfter;
  if (given === undefined || given === null) return undefined;
  const at = RFC3339.test(given) ? Date.parse(given) : Number.NaN;
  return Number.isFinite(at) ? Math.floor(at / 1000) * 1000 : Number.NEGATIVE_INFINITY;
}

/**
 * Why a new session's spec.notAfter is refused at admission, or undefined: it
 * must be an RFC 3339 time, still to come. Refusing a passed one is what makes
 * a session re-applied from Git after its end harmless (ADR 25).
 */
export function notAfterProblem(spec: Pick<ExecSessionSpec, 'notAfter'>, now: Date): string | undefined {
  const given = spec.notAfter;
  if (given === undefined || given === null) return undefined;
  if (typeof given !== 'string' || !RFC3339.test(given) || !Number.isFinite(Date.parse(given))) {
    return `spec.notAfter: ${JSON.stringify(given)} is not an RFC 3339 time; give the session's absolute end as e.g. "2026-12-01T18:00:00Z", or leave it out`;
  }
  const at = notAfterMs(spec) ?? 0;
  if (at > now.getTime()) return undefined;
  return `spec.notAfter: this session ended at ${given} (its notAfter; now ${kubeTime(now)}) and is never created again after its end, ` +
    'so a copy re-applied from Git or a backup cannot reopen access; to ask for access again, create a new session with a later spec.notAfter';
}

/**
 * The lifetime of a session starting at `start` with the ttl and ttl.max of its
 * policy decision: in whole seconds, never early, and for a ttl of whole seconds
 * expiresAt - startedAt is exactly the ttl. With `notAfter` (epoch ms, from
 * notAfterMs), neither expiresAt nor extendableUntil goes past it: the session
 * then ends at its notAfter, however long its ttl (never before it started).
 */
export function decideLifetime(start: Date, ttlMs: number, maxTtlMs: number, notAfter?: number): Required<Lifetime> {
  const startedAt = wholeSecondUp(start.getTime());
  const cap = (ms: number): Date => new Date(Math.max(startedAt, Math.min(ms, notAfter ?? Number.POSITIVE_INFINITY)));
  return {
    startedAt: new Date(startedAt),
    expiresAt: cap(wholeSecondUp(startedAt + ttlMs)),
    extendableUntil: cap(wholeSecondUp(startedAt + Math.min(Math.max(ttlMs, maxTtlMs), MAX_LIFETIME_MS))),
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

/** Why a live session's time is up. */
export interface TimeUp {
  reason: 'NotAfterPassed' | 'TtlElapsed';
  message: string;
}

/**
 * Whether a session's time is up, and why: its spec.notAfter has passed (whether
 * or not it started: one waiting for approval or for its pod ends too), or its
 * recorded expiry. undefined while it may go on.
 */
export function timeUp(spec: Pick<ExecSessionSpec, 'notAfter'>, status: Pick<ExecSessionStatus, 'expiresAt' | 'startedAt'> | undefined, now: Date): TimeUp | undefined {
  const end = notAfterMs(spec);
  const started = status?.startedAt !== undefined;
  if (end !== undefined && end <= now.getTime()) {
    const what = started ? 'the session ended at its spec.notAfter' : 'the session did not start before its spec.notAfter';
    return { reason: 'NotAfterPassed', message: `${what} (${spec.notAfter}); it is never created again after that: create a new session with a later notAfter` };
  }
  if (hasExpired(status, now)) return { reason: 'TtlElapsed', message: `the session's ttl elapsed at ${status?.expiresAt}` };
  return undefined;
}

/** How long until spec.notAfter (infinite without one): a session that waits never waits past it. */
export function untilNotAfterMs(spec: Pick<ExecSessionSpec, 'notAfter'>, now: Date): number {
  return (notAfterMs(spec) ?? Number.POSITIVE_INFINITY) - now.getTime();
}

/**
 * The latest expiry an extend may set, and what sets it: the limit recorded at
 * the start (or, for sessions an older operator started, the helper's deadline,
 * `fallbackMs`), never past spec.notAfter.
 */
export function extendLimit(l: Lifetime, spec: Pick<ExecSessionSpec, 'notAfter'>, fallbackMs: () => Promise<number>): Promise<{ untilMs: number; by: 'policy' | 'notAfter' }> {
  const end = notAfterMs(spec);
  const recorded = l.extendableUntil?.getTime();
  const limit = recorded !== undefined ? Promise.resolve(recorded) : fallbackMs();
  return limit.then((untilMs) => (end !== undefined && end < untilMs ? { untilMs: end, by: 'notAfter' } : { untilMs, by: 'policy' }));
}

/** An extension by `byMs`: the new expiry, and how long the session then lasts from its start (and lasts now). */
export function extended(l: Lifetime, byMs: number): { expiresAt: Date; lifetimeMs: number; currentMs: number } {
  const expiresAt = new Date(l.expiresAt.getTime() + byMs);
  return { expiresAt, lifetimeMs: expiresAt.getTime() - l.startedAt.getTime(), currentMs: l.expiresAt.getTime() - l.startedAt.getTime() };
}

/**
 * When an expired session's access ended, for status.endedAt: when its helper
 * ended it (`helperEnd`, the kubelet's record), if that lies between its expiry
 * (less a second: the kubelet's times are whole seconds) and now; else now, the
 * operator's own observation. Never from a field a user can write (ADR 31).
 */
export function accessEndedAt(status: Pick<ExecSessionStatus, 'expiresAt'> | undefined, helperEnd: Date | undefined, now: Date): Date {
  const expires = expiresAtMs(status);
  if (!helperEnd || expires === undefined) return now;
  const at = helperEnd.getTime();
  return at >= expires - 1000 && at <= now.getTime() ? helperEnd : now;
}
