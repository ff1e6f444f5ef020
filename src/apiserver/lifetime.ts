/**
 * The `revoke` and `extend` subresources: end a session now, or move its expiry
 * within what its policy allows. Both write status as the operator, with the
 * identity kube-apiserver forwarded; neither trusts anything in the request body
 * beyond the reason and the duration. The lifetime itself is src/lifetime's:
 * extend moves the recorded expiry, never past what was recorded at the start.
 */
import { kubeTime } from '../api/conditions.js';
import { formatDuration, parseDuration } from '../api/duration.js';
import { sessionSubject } from '../api/subject.js';
import { isTerminalPhase, type ExecSession } from '../api/types.js';
import { authzRequestOf, type SessionAuthorizer } from '../authz/authorizer.js';
import type { HelperClient } from '../exec/helper-client.js';
import { classifyApiError } from '../k8s/api-errors.js';
import { MAX_LIFETIME_MS, extendLimit, extended, hasExpired, recordedLifetime } from '../lifetime/lifetime.js';
import { sealProblem, sealedPatch } from '../signing/seal.js';
import { ApiError, MAX_REASON, reasonOf, type Action, type ActionContext } from './types.js';

/** Status written by `revoke`; the controller then ends the session Terminated/Revoked. */
export interface Revocation {
  username: string;
  at: string;
  reason?: string;
}

async function load(ctx: ActionContext): Promise<ExecSession> {
  const s = await ctx.kube.getSession(ctx.namespace, ctx.name);
  if (!s) throw new ApiError(404, 'NotFound', `execsession ${ctx.namespace}/${ctx.name} not found`);
  return s;
}

function ended(s: ExecSession): ApiError {
  return new ApiError(410, 'Ended', `execsession ${s.metadata.namespace}/${s.metadata.name} has already ended (${s.status?.phase}${s.status?.message ? `: ${s.status.message}` : ''})`);
}

/** Ends a session now; the caller's right to do so is RBAC on execsessions/revoke. */
export async function revoke(ctx: ActionContext): Promise<ExecSession> {
  const s = await load(ctx);
  if (isTerminalPhase(s.status?.phase)) throw ended(s);
  const existing = (s.status as { revocation?: Revocation } | undefined)?.revocation;
  if (existing?.at) return s;
  // A revocation is never refused for a long reason: it is cut to what status keeps.
  const given = ctx.body.reason;
  const reason = reasonOf({ reason: typeof given === 'string' ? given.slice(0, MAX_REASON) : given });
  const revocation: Revocation = { username: ctx.caller.username, at: kubeTime(ctx.now), ...(reason ? { reason } : {}) };
  const updated = await ctx.kube.patchSessionStatus(ctx.namespace, ctx.name, { revocation } as never);
  await ctx.kube.recordEvent(updated, { type: 'Warning', reason: 'Revoked', message: `revoked by ${ctx.caller.username}${reason ? `: ${reason}` : ''}` }).catch(() => undefined);
  return updated;
}

/** Moves a live session's expiry by `body.by`, within the policy's ttl.max counted from its start. */
function byOf(body: Record<string, unknown>): number {
  const by = body.by;
  if (typeof by !== 'string' || by === '') throw new ApiError(400, 'BadRequest', 'extend needs {"by": DURATION}, e.g. {"by": "15m"}');
  try {
    return parseDuration(by);
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `by: ${(e as Error).message}`);
  }
}

/**
 * A session lasts at most MAX_LIFETIME_MS (168h) from its start, whatever its
 * policy says: an extension past that is a bad request (400), named as such,
 * before any policy is asked (which could not even read such a duration).
 */
function checkLifetime(lifetimeMs: number, currentMs: number, byMs: number, where: string): void {
  if (lifetimeMs <= MAX_LIFETIME_MS) return;
  const room = MAX_LIFETIME_MS - currentMs;
  const instead = room >= 1000 ? `extend by at most ${formatDuration(Math.floor(room / 1000) * 1000)}` : 'it cannot be extended further; create a new session';
  throw new ApiError(400, 'BadRequest', `by: extending ${where} by ${formatDuration(byMs)} would make it last ${formatDuration(lifetimeMs)} from its start, and a session lasts at most 168h (7 days); ${instead}`);
}

/** The latest expiry the helper pod's kubelet deadline allows. */
async function helperDeadline(ctx: ActionContext, ref: { namespace: string; name: string }): Promise<number> {
  const helper = await ctx.kube.getPod(ref.namespace, ref.name);
  const start = Date.parse(String(helper?.status?.startTime ?? helper?.metadata?.creationTimestamp ?? ''));
  const deadline = start + (helper?.spec?.activeDeadlineSeconds ?? 0) * 1000 - 10_000;
  return Number.isFinite(deadline) ? deadline : 0;
}

/** What extend is built from: the policy decision, and the helper pod's own safety-net deadline. */
export interface ExtendDeps {
  authorizer: SessionAuthorizer;
  helpers: Pick<HelperClient, 'setDeadline'>;
}

/** The `extend` subresource, over the collaborators it is given (the clock is the request's, ctx.now). */
export class Extender {
  constructor(private readonly d: ExtendDeps) {}

  /** Moves a live session's expiry by `body.by`; throws ApiError. */
  readonly extend: Action = (ctx) => extend(ctx, this.d);
}

/** Whether the policy allows the session to last `lifetime` in all; throws the denial. */
async function authorizeLifetime(authorizer: SessionAuthorizer, s: ExecSession, lifetime: string, where: string): Promise<void> {
  const u = s.status?.user;
  const request = authzRequestOf(s, u ? { uid: u.uid, gid: u.gid, groups: u.groups ?? [u.gid], name: u.name } : undefined);
  const decision = await authorizer.authorize({ ...request, spec: { ...s.spec, ttl: lifetime } });
  if (!decision.allowed) throw new ApiError(403, decision.reason, `cannot extend ${where} to a lifetime of ${lifetime}: ${decision.message}`);
}

async function extend(ctx: ActionContext, { authorizer, helpers }: ExtendDeps): Promise<ExecSession> {
  const byMs = byOf(ctx.body);
  const s = await load(ctx);
  const where = `execsession ${ctx.namespace}/${ctx.name}`;
  if (isTerminalPhase(s.status?.phase)) throw ended(s);
  // startedAt, the user and the helper below must be the operator's own.
  const tampered = sealProblem(ctx.stampKey, s);
  if (tampered) throw new ApiError(409, 'StatusTampered', `cannot extend ${where}: ${tampered}; the operator ends it`);
  const st = s.status ?? {};
  const lifetime = recordedLifetime(st);
  if (!lifetime || !st.helperPod) throw new ApiError(409, 'NotStarted', `${where} has not started yet (phase ${st.phase ?? 'Pending'}); its ttl counts from its start`);
  if (hasExpired(st, ctx.now)) throw new ApiError(410, 'Expired', `${where} expired at ${st.expiresAt}; create a new session`);
  const subject = sessionSubject(s.spec).username;
  if (ctx.caller.username !== subject && ctx.caller.username !== s.spec.requester?.username) {
    throw new ApiError(403, 'NotOwner', `only ${subject} (the session's subject) or its requester may extend ${where}`);
  }
  const { expiresAt: next, lifetimeMs, currentMs } = extended(lifetime, byMs);
  checkLifetime(lifetimeMs, currentMs, byMs, where);
  await authorizeLifetime(authorizer, s, formatDuration(lifetimeMs), where);
  // status.extendableUntil (for sessions an older operator started, the helper pod's kubelet
  // deadline, made from the same limit) was fixed at the start and cannot grow; spec.notAfter never moves.
  const helper = st.helperPod;
  const { untilMs, by } = await extendLimit(lifetime, s.spec, () => helperDeadline(ctx, helper));
  if (next.getTime() > untilMs) {
    const last = kubeTime(new Date(Math.max(untilMs, lifetime.expiresAt.getTime())));
    if (by === 'notAfter') throw new ApiError(403, 'BeyondNotAfter', `cannot extend ${where} past ${s.spec.notAfter}, its spec.notAfter (the absolute end it was created with); create a new session with a later notAfter`);
    throw new ApiError(403, 'BeyondHelperDeadline', `cannot extend ${where} past ${last}, the longest its policy allowed when it started; create a new session`);
  }
  await helpers.setDeadline(st.helperPod, next);
  const updated = await ctx.kube.patchSessionStatus(ctx.namespace, ctx.name, sealedPatch(ctx.stampKey, s, { expiresAt: kubeTime(next) }), s.metadata.resourceVersion)
    .catch((e: unknown) => {
      if (classifyApiError(e) === 'conflict') throw new ApiError(409, 'Conflict', `${where} changed while it was being extended; run the extend again`);
      throw e;
    });
  await ctx.kube.recordEvent(updated, { type: 'Normal', reason: 'Extended', message: `${ctx.caller.username} extended the session by ${formatDuration(byMs)}; it now expires at ${kubeTime(next)}` }).catch(() => undefined);
  return updated;
}
