/**
 * Warm helpers (ADR 41): helper pods started before any session needs them, on
 * nodes where sessions were started recently, each claimed by exactly one
 * session and never returned. Everything here is pure: the pool pod's
 * manifest, which pods a session may claim, the claim itself (one update, made
 * race-free by the pod's resourceVersion), and how many pods a node lacks.
 * The I/O is src/controller/warm-pool.ts.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { MAX_LIFETIME_MS } from '../lifetime/lifetime.js';
import {
  ANNOTATION_SESSION_NAME, ANNOTATION_SESSION_NAMESPACE, DEADLINE_GRACE_SECONDS, LABEL_COMPONENT, LABEL_SESSION_UID, helperManifest, type HelperPodInput,
} from './helper-pod.js';

/** On a pool pod only: the claim removes it in the same write that sets the session's uid. */
export const LABEL_POOL = 'execsession.dev/pool';
export const POOL_WARM = 'warm';
/** When a pool pod stops waiting for a session and exits by itself (its serve deadline), RFC 3339. */
export const ANNOTATION_IDLE_UNTIL = 'execsession.dev/idle-until';
/** When a session claimed the pod: its start, for the session's lifetime and start timeout (not the pod's creation). */
export const ANNOTATION_CLAIMED_AT = 'execsession.dev/claimed-at';
export const WARM_NAME_PREFIX = 'execsession-warm-';
export const POOL_SELECTOR = `${LABEL_POOL}=${POOL_WARM}`;

/**
 * The longest session (start to its last possible expiry, extensions included) a
 * pool pod can serve: the longest any session lasts (MAX_LIFETIME_MS, 168h), so
 * that every session fits whatever its policy's ttl.max (a pool sized for one hour
 * left every session under a 24h ttl.max cold). The kubelet's deadline is then no
 * backstop for an idle pod; its own serve deadline is, and the pool and the sweep
 * delete it once its idle end is past. A claim lowers it to the session's.
 */
export const WARM_SESSION_MAX_SECONDS = Math.ceil(MAX_LIFETIME_MS / 1000);

/**
 * A pod is not claimed this close to its idle end: the claim and the `deadline` exec
 * that follows must land before its serve loop ends it.
 */
export const CLAIM_MARGIN_MS = 20_000;

/** What a pool pod is made from. */
export type WarmPodInput = Pick<HelperPodInput, 'namespace' | 'nodeName' | 'image' | 'imagePullPolicy' | 'now'> & { idleMs: number };

/** A pool pod: the helper manifest without a session, serving until its idle end. */
export function warmPod(i: WarmPodInput): V1Pod {
  const idleSeconds = Math.max(1, Math.ceil(i.idleMs / 1000));
  const idleEnd = Math.ceil(i.now.getTime() / 1000) + idleSeconds;
  const pod = helperManifest(i, idleEnd, idleSeconds + WARM_SESSION_MAX_SECONDS + DEADLINE_GRACE_SECONDS);
  pod.metadata = {
    generateName: WARM_NAME_PREFIX,
    namespace: i.namespace,
    labels: { [LABEL_COMPONENT]: 'execsession-helper', [LABEL_POOL]: POOL_WARM },
    annotations: { [ANNOTATION_IDLE_UNTIL]: new Date(idleEnd * 1000).toISOString() },
  };
  return pod;
}

function idleUntilMs(pod: V1Pod): number {
  const at = Date.parse(pod.metadata?.annotations?.[ANNOTATION_IDLE_UNTIL] ?? '');
  return Number.isFinite(at) ? at : Number.NEGATIVE_INFINITY;
}

function isPoolPod(pod: V1Pod): boolean {
  return pod.metadata?.labels?.[LABEL_POOL] === POOL_WARM && !pod.metadata?.labels?.[LABEL_SESSION_UID];
}

/** A pool pod that is still, or will soon be, waiting for a session: not deleted, not ended, its idle end not close. */
function isLivePoolPod(pod: V1Pod, now: Date): boolean {
  const phase = pod.status?.phase;
  return isPoolPod(pod) && !pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed' &&
    idleUntilMs(pod) - now.getTime() >= CLAIM_MARGIN_MS;
}

/**
 * The activeDeadlineSeconds a session's cold helper would get, for a pod that
 * started at its status.startTime: from the pod's start (where the kubelet
 * counts from) to the session's last possible expiry, plus the grace. undefined
 * when the pod's start is not known.
 */
export function claimedDeadlineSeconds(pod: V1Pod, lastExpiry: Date): number | undefined {
  const started = new Date(pod.status?.startTime ?? Number.NaN).getTime();
  if (!Number.isFinite(started)) return undefined;
  return Math.max(1, Math.ceil((lastExpiry.getTime() - started) / 1000)) + DEADLINE_GRACE_SECONDS;
}

/** The pool pod that may serve a session ending at `lastExpiry` on `node`: running there, not near its idle end, its deadline long enough. */
export function isClaimable(pod: V1Pod, node: string, lastExpiry: Date, now: Date): boolean {
  if (!isLivePoolPod(pod, now) || pod.spec?.nodeName !== node || pod.status?.phase !== 'Running') return false;
  if (!(pod.status?.containerStatuses ?? []).some((c) => c.name === 'helper' && c.state?.running)) return false;
  const need = claimedDeadlineSeconds(pod, lastExpiry);
  // activeDeadlineSeconds can only be lowered: a session needing more than the pod has left is not given it.
  return need !== undefined && need <= (pod.spec?.activeDeadlineSeconds ?? 0);
}

/**
 * The pods a session may claim, in the order it tries them: starting at a place
 * that follows from the session's uid, so that claimers racing for one pool
 * mostly try different pods first (the resourceVersion, not this, is what makes
 * the claim safe).
 */
export function claimOrder(pods: V1Pod[], node: string, lastExpiry: Date, now: Date, sessionUid: string): V1Pod[] {
  const ok = pods.filter((p) => isClaimable(p, node, lastExpiry, now))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (ok.length === 0) return ok;
  let h = 0;
  for (const c of sessionUid) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const at = h % ok.length;
  return [...ok.slice(at), ...ok.slice(0, at)];
}

/** What a claim binds the pod to. */
export interface ClaimInput {
  session: { name: string; namespace: string; uid: string };
  /** The session's last possible expiry (extendableUntil, else expiresAt). */
  lastExpiry: Date;
  /** When it is claimed: the session's start. */
  now: Date;
}

/**
 * The pod as the claim writes it, in one update carrying the resourceVersion it was
 * read at: out of the pool, the session's uid label and annotations (what the
 * sweep and every look-up of a session's helper go by), when it was claimed, and
 * the kubelet's deadline lowered to a cold helper's for this session. undefined
 * when it cannot serve the session (its deadline is too short or its start unknown).
 */
export function claimedPod(pod: V1Pod, c: ClaimInput): V1Pod | undefined {
  const deadline = claimedDeadlineSeconds(pod, c.lastExpiry);
  if (deadline === undefined || deadline > (pod.spec?.activeDeadlineSeconds ?? 0) || !pod.metadata?.resourceVersion) return undefined;
  const labels: Record<string, string> = { ...(pod.metadata.labels ?? {}), [LABEL_SESSION_UID]: c.session.uid };
  delete labels[LABEL_POOL];
  const annotations = {
    ...(pod.metadata.annotations ?? {}),
    [ANNOTATION_SESSION_NAME]: c.session.name, [ANNOTATION_SESSION_NAMESPACE]: c.session.namespace, [ANNOTATION_CLAIMED_AT]: c.now.toISOString(),
  };
  return { ...pod, metadata: { ...pod.metadata, labels, annotations }, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], activeDeadlineSeconds: deadline } };
}

/** When a claimed pod was claimed (epoch ms), or undefined for a pod made for its session. */
export function claimedAtMs(pod: V1Pod | undefined): number | undefined {
  const at = Date.parse(pod?.metadata?.annotations?.[ANNOTATION_CLAIMED_AT] ?? '');
  return Number.isFinite(at) ? at : undefined;
}

/** How many pool pods `node` lacks to have `size` waiting for a session. */
export function poolDeficit(pods: V1Pod[], node: string, size: number, now: Date): number {
  const live = pods.filter((p) => p.spec?.nodeName === node && isLivePoolPod(p, now)).length;
  return Math.max(0, size - live);
}

/** Pool pods to delete: ended (their idle time ran out, or they failed), or past their idle end. */
export function endedPoolPods(pods: V1Pod[], now: Date): V1Pod[] {
  return pods.filter((p) => isPoolPod(p) && !p.metadata?.deletionTimestamp &&
    (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || idleUntilMs(p) + 10_000 < now.getTime()));
}
