/**
 * Finding a session's helper pod (ADR 41). A helper is the session's when it
 * carries the session's uid in its execsession.dev/session-uid label: the
 * operator writes that label when it creates a helper (named execsession-UID)
 * and in the very write that claims a warm one (any name), and only the
 * operator writes pods in its namespace. Names are only hints: status.helperPod
 * (which the operator records, sealed, once the helper is known) and the
 * deterministic name save a list when they hold; a pod found by a hint that
 * does not carry the label is not the session's (status may have been written
 * by someone else when a session has ended: ending does not trust it).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ExecSession } from '../api/types.js';
import { LABEL_SESSION_UID, helperPodName } from '../exec/helper-pod.js';
import type { Kube } from '../k8s/kube.js';

/** The label selector of a session's helpers. */
export function sessionHelperSelector(uid: string): string {
  return `${LABEL_SESSION_UID}=${uid}`;
}

/** Whether `pod` is a helper of the session with this uid. */
export function isHelperOf(pod: V1Pod | undefined, uid: string): pod is V1Pod {
  return Boolean(uid) && pod?.metadata?.labels?.[LABEL_SESSION_UID] === uid;
}

/** The name to try first: what status records, else the name a cold helper gets. */
export function hintedHelperName(s: ExecSession, namespace: string): string {
  const recorded = s.status?.helperPod;
  return recorded?.name && recorded.namespace === namespace ? recorded.name : helperPodName(s.metadata.uid ?? '');
}

/**
 * The session's helper pod, or undefined: the hinted name when its label says so,
 * else the first pod the label selects (not being deleted first). Looked up before a
 * helper is created or claimed, so that a claim written just before a crash is
 * found, and the session never gets a second helper.
 */
export async function findHelper(kube: Pick<Kube, 'getPod' | 'listPods'>, namespace: string, s: ExecSession): Promise<V1Pod | undefined> {
  const uid = s.metadata.uid ?? '';
  if (!uid) return undefined;
  const hinted = await kube.getPod(namespace, hintedHelperName(s, namespace));
  if (isHelperOf(hinted, uid)) return hinted;
  const all = await kube.listPods(namespace, sessionHelperSelector(uid));
  return all.filter((p) => isHelperOf(p, uid)).sort((a, b) => Number(Boolean(a.metadata?.deletionTimestamp)) - Number(Boolean(b.metadata?.deletionTimestamp)))[0];
}
