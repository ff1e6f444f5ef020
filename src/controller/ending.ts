/**
 * How sessions end: the terminal status is written first (so a crash right after
 * still leaves the truth in status), then, in the session's next reconcile, every
 * process the session started is killed and the helper pod deleted. Ended sessions are deleted after the
 * retention period; a deleted session is cleaned up before its finalizer goes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Reason, kubeTime, type ReasonName } from '../api/conditions.js';
import { isTerminalPhase, type CommandResult, type ExecSession, type Phase } from '../api/types.js';
import type { Clock, SessionHelpers, SessionMetrics } from './collaborators.js';
import { KUBELET_RECORD_WAIT_MS, LATE_EXPIRY_MS, awaitsHelperRecord, selfExpiredAt } from '../exec/helper-pod.js';
import { findHelper, isHelperOf, sessionHelperSelector } from './helper-lookup.js';
import { accessEndedAt, expiresAtMs } from '../lifetime/lifetime.js';
import { apiMessage, classifyApiError } from '../k8s/api-errors.js';
import type { Kube } from '../k8s/kube.js';
import { sessionConditions, type Authorization } from './conditions.js';
import type { Outcome } from './queue.js';
import type { Logger } from '../log/logger.js';
import type { ControllerConfig } from './types.js';
import type { Auditor } from '../audit/auditor.js';
import { ending } from '../audit/steps.js';

export const FINALIZER = 'execsession.dev/cleanup';

/** How often a late expiry looks again for the kubelet's record of its helper's own end. */
const RECORD_POLL_MS = 250;

/** The reconcile in progress, per async context: when it began, and how long its first read of the session took (epoch ms, ms). */
interface ReconcileTiming { began: number; firstReadMs?: number }
const reconcileTiming = new AsyncLocalStorage<ReconcileTiming>();

/** Runs one reconcile, noting when it began (a late expiry's wait depends on it: Ending.expiredAt). */
export function reconcileBeginning<T>(beganMs: number, f: () => Promise<T>): Promise<T> {
  return reconcileTiming.run({ began: beganMs }, f);
}

/** Notes that the reconcile in progress has its first read (kube-apiserver's answer) at `nowMs`. */
export function firstReadDone(nowMs: number): void {
  const t = reconcileTiming.getStore();
  if (t && t.firstReadMs === undefined) t.firstReadMs = nowMs - t.began;
}

/**
 * Whether a late expiry was late for a reason outside this operator, so that its helper
 * ended it alone and the kubelet's record is worth waiting for: the operator was not acting
 * at expiresAt (down, or not yet leading), or this reconcile began on time and kube-apiserver
 * held its first read LATE_EXPIRY_MS or more (stalled). Not this operator's own backlog, nor
 * a busy machine's slow answers (many expiries at once): those end at once, at the
 * operator's time, not each holding a worker while it waits on the kubelet.
 */
export function lateOutsideQueue(expiresMs: number, t: ReconcileTiming | undefined, actingSinceMs: number | undefined): boolean {
  if (actingSinceMs !== undefined && actingSinceMs > expiresMs) return true;
  return t !== undefined && t.began - expiresMs < LATE_EXPIRY_MS && (t.firstReadMs ?? 0) >= LATE_EXPIRY_MS;
}

export class Ending {
  constructor(
    private readonly kube: Kube,
    private readonly helpers: Pick<SessionHelpers, 'retire'>,
    private readonly cfg: ControllerConfig,
    private readonly log: Logger,
    private readonly seams: { now: Clock; metrics?: SessionMetrics; audit?: Pick<Auditor, 'emit'>; pause?: (ms: number) => Promise<void>; actingSince?: () => number | undefined },
  ) {}

  private now(): Date {
    return this.seams.now();
  }

  /** Moves the session to a terminal phase, then cleans up after it. */
  async end(s: ExecSession, phase: Phase, reason: ReasonName, message: string, extra: { result?: CommandResult; authorization?: Authorization } = {}): Promise<Outcome> {
    const at = phase === 'Expired' ? await this.expiredAt(s) : this.now();
    const gen = s.metadata.generation ?? 0;
    const { authorization, ...fields } = extra;
    const conditions = sessionConditions(s.status?.conditions, { phase, from: s.status?.phase, reason, message, authorization }, gen, at);
    const updated = await this.kube.patchSessionStatus(s.metadata.namespace ?? '', s.metadata.name ?? '', {
      // An expiry's end to the millisecond: the 1 s promise is about fractions of a second.
      phase, message, conditions, observedGeneration: gen, endedAt: s.status?.endedAt ?? (phase === 'Expired' ? at.toISOString() : kubeTime(at)), ...fields,
    });
    // A refusal's Event names its cause (UserNotFound, Unsigned, ...); other endings name the phase.
    const refused = phase === 'Failed' || phase === 'Denied';
    // Not waited for: the worker goes on to the next session due (an Event is best effort; its failure is logged).
    void this.kube.recordEvent(updated, { type: refused ? 'Warning' : 'Normal', reason: refused ? reason : phase, message })
      .catch((e: unknown) => this.log.warn({ err: apiMessage(e) }, 'could not record event'));
    this.log.info({ session: `${s.metadata.namespace}/${s.metadata.name}`, phase, reason }, message);
    this.observe(s, phase, reason, at);
    // After the write: what status holds is what was audited (a replay of this end has the same ids).
    for (const e of ending(updated, reason, message)) this.seams.audit?.emit(e);
    // Clean-up in a reconcile of its own, queued behind the other sessions due now: when many end
    // at once (a shared expiresAt), every status says so first, and the slow part comes after.
    return { requeueAfterMs: 0 };
  }

  /**
   * When an expired session's access ended: when its helper ended it by itself
   * (the operator may have been down then), else now (ADR 31).
   */
  private async expiredAt(s: ExecSession): Promise<Date> {
    const expires = expiresAtMs(s.status);
    const now = this.now();
    // On time: now is within the promise, and not looking the helper up saves a request per
    // session when many expire at once (bench:scale: 50 sharing one expiresAt).
    if (expires !== undefined && now.getTime() - expires < LATE_EXPIRY_MS) return now;
    let pod = await findHelper(this.kube, this.cfg.namespace, s);
    // Late because the operator was down or kube-apiserver stalled at expiresAt: the helper has
    // ended the session by itself, and the kubelet records that within about a second of its exit
    // (PLEG). Waited for, briefly, so that status says when access ended, not when we came back.
    const outside = expires !== undefined && lateOutsideQueue(expires, reconcileTiming.getStore(), this.seams.actingSince?.());
    const pause = this.seams.pause ?? ((ms: number) => sleep(ms));
    for (let waited = 0; outside && waited < KUBELET_RECORD_WAIT_MS && awaitsHelperRecord(pod, expires, this.now().getTime()); waited += RECORD_POLL_MS) {
      await pause(RECORD_POLL_MS);
      pod = await findHelper(this.kube, this.cfg.namespace, s);
    }
    return accessEndedAt(s.status, selfExpiredAt(pod), this.now());
  }

  /** Denials by reason; for an expiry, how late after expiresAt it was ended. */
  private observe(s: ExecSession, phase: Phase, reason: ReasonName, endedAt: Date): void {
    if (phase === 'Denied') this.seams.metrics?.denied('controller', reason);
    const expiresAt = Date.parse(s.status?.expiresAt ?? '');
    if (phase === 'Expired' && reason === Reason.TtlElapsed && Number.isFinite(expiresAt)) this.seams.metrics?.sessionExpired((endedAt.getTime() - expiresAt) / 1000);
  }

  /** Kills what the session left and deletes its helper; deletes the session after retention. */
  async afterEnd(s: ExecSession): Promise<Outcome> {
    await this.removeHelper(s);
    const endedAt = Date.parse(s.status?.endedAt ?? '') || this.now().getTime();
    const left = endedAt + this.cfg.retentionMs - this.now().getTime();
    if (left > 0) return { requeueAfterMs: left };
    await this.kube.deleteSession(s.metadata.namespace ?? '', s.metadata.name ?? '', s.metadata.uid ?? '');
    return {};
  }

  /** `kubectl delete execsession`: end a live session like an expiry, then let the object go. */
  async finalize(s: ExecSession): Promise<Outcome> {
    const finalizers = s.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return {};
    if (!isTerminalPhase(s.status?.phase)) await this.endDeleted(s);
    await this.removeHelper(s);
    // The status write above moved the resourceVersion read at the start: without a fresh read
    // every deletion conflicted once and finished only on the retry.
    const latest = await this.kube.getSession(s.metadata.namespace ?? '', s.metadata.name ?? '');
    if (!latest || latest.metadata.uid !== s.metadata.uid) return {};
    const left = (latest.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    await this.kube.setSessionFinalizers(s.metadata.namespace ?? '', s.metadata.name ?? '', left, latest.metadata.resourceVersion ?? '')
      .catch((e: unknown) => {
        if (classifyApiError(e) !== 'notFound') throw e;
      });
    return {};
  }

  /** A live session deleted: Terminated (Deleted) in status, audited and told in an Event, before its clean-up. */
  private async endDeleted(s: ExecSession): Promise<void> {
    const message = 'the session was deleted; its processes were ended';
    const now = this.now();
    const updated = await this.kube.patchSessionStatus(s.metadata.namespace ?? '', s.metadata.name ?? '', {
      phase: 'Terminated', message, endedAt: kubeTime(now),
      conditions: sessionConditions(s.status?.conditions, { phase: 'Terminated', from: s.status?.phase, reason: Reason.Deleted, message }, s.metadata.generation ?? 0, now),
    }).catch((e: unknown) => {
      if (classifyApiError(e) !== 'notFound') throw e;
    });
    if (updated) for (const e of ending(updated, Reason.Deleted, message)) this.seams.audit?.emit(e);
    await this.kube.recordEvent(s, { type: 'Normal', reason: 'Terminated', message }).catch(() => undefined);
  }

  /**
   * Ends the session's helpers: every pod in the operator's namespace labelled with the
   * session's uid (a cold one, or one claimed from the warm pool), never a name taken
   * from status (which others can write once a session has ended).
   */
  private async removeHelper(s: ExecSession): Promise<void> {
    const uid = s.metadata.uid ?? '';
    if (!uid) return;
    const pods = (await this.kube.listPods(this.cfg.namespace, sessionHelperSelector(uid))).filter((p) => isHelperOf(p, uid));
    for (const pod of pods) {
      const name = pod.metadata?.name;
      const killed = await this.helpers.retire(pod);
      if (killed < 0) this.log.warn({ helper: name }, 'clean-up through the helper failed; its SIGTERM handler will retry');
      if (killed > 0) this.log.info({ helper: name, killed }, 'ended the session\'s processes');
    }
  }
}
