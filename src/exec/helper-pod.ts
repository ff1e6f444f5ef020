/**
 * The helper pod: one per session, on the target pod's node, in the operator's
 * namespace. It is privileged because the node's runc must enter the target
 * container (setns, cgroup writes, the runtime's state directory); everything
 * else is the least there is: no service-account token, no service links, no
 * host network, a deadline bound to the session, and a program that ends the
 * session's processes when the pod is deleted or the session expires, whether
 * or not an operator runs then (ADR 31).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { helperArgv } from './helper-script.js';

export const LABEL_SESSION_UID = 'execsession.dev/session-uid';
/** Name and namespace are annotations: a name may be 253 characters, a label value only 63. */
export const ANNOTATION_SESSION_NAME = 'execsession.dev/session-name';
export const ANNOTATION_SESSION_NAMESPACE = 'execsession.dev/session-namespace';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';

/**
 * Seconds after the last possible expiry at which the kubelet kills the helper
 * (activeDeadlineSeconds): a backstop only, as the helper ends the session and
 * exits at expiry by itself. Extend's limit for sessions without
 * status.extendableUntil is read back from it less these 10 s (src/apiserver/lifetime.ts).
 */
export const DEADLINE_GRACE_SECONDS = 10;

/** The helper's termination message when it ended the session at its expiry: `expired EPOCH`. */
export const SELF_EXPIRED_MESSAGE = /^expired (\d+)\n/;

/** What a helper pod is made from. */
export interface HelperPodInput {
  session: { name: string; namespace: string; uid: string };
  namespace: string;
  nodeName: string;
  image: string;
  imagePullPolicy: string;
  /** The session's recorded lifetime (src/lifetime): its expiry, and the latest expiry an extend may set (default expiresAt). */
  expiresAt: Date;
  extendableUntil?: Date;
  now: Date;
}

/** The helper pod's deterministic name: one helper per session. */
export function helperPodName(sessionUid: string): string {
  return `execsession-${sessionUid}`;
}

/**
 * Kubernetes expands `$(VAR)` and turns `$$` into `$` in a container's command,
 * which would corrupt the script; doubling every `$` makes it arrive verbatim.
 */
export function escapeForPodSpec(argv: string[]): string[] {
  return argv.map((a) => a.replace(/\$/g, '$$$$'));
}

/** The helper pod manifest. */
export function helperPod(i: HelperPodInput): V1Pod {
  // The kubelet's deadline can never be raised later, so it covers the longest the session may be extended to.
  const last = i.extendableUntil && i.extendableUntil > i.expiresAt ? i.extendableUntil : i.expiresAt;
  const remaining = Math.max(1, Math.ceil((last.getTime() - i.now.getTime()) / 1000));
  const expiresEpoch = Math.ceil(i.expiresAt.getTime() / 1000);
  const pod = helperManifest(i, expiresEpoch, remaining + DEADLINE_GRACE_SECONDS);
  pod.metadata = {
    name: helperPodName(i.session.uid),
    namespace: i.namespace,
    labels: { [LABEL_COMPONENT]: 'execsession-helper', [LABEL_SESSION_UID]: i.session.uid },
    annotations: { [ANNOTATION_SESSION_NAME]: i.session.name, [ANNOTATION_SESSION_NAMESPACE]: i.session.namespace },
  };
  return pod;
}

/**
 * What every helper pod is, a session's or a warm one (warm-pod.ts): the same
 * spec, serving until `serveUntilEpoch`, killed by the kubelet after
 * `activeDeadlineSeconds`. Metadata is the caller's.
 */
export function helperManifest(i: Pick<HelperPodInput, 'namespace' | 'nodeName' | 'image' | 'imagePullPolicy'>, serveUntilEpoch: number, activeDeadlineSeconds: number): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: i.namespace },
    spec: {
      nodeName: i.nodeName,
      hostPID: true,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      activeDeadlineSeconds,
      terminationGracePeriodSeconds: 10,
      // The target may run on any node, whatever its taints.
      tolerations: [{ operator: 'Exists' }],
      containers: [{
        name: 'helper',
        image: i.image,
        imagePullPolicy: i.imagePullPolicy,
        command: escapeForPodSpec(helperArgv('serve', String(serveUntilEpoch))),
        securityContext: { privileged: true },
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
        volumeMounts: [{ name: 'host', mountPath: '/host' }],
        terminationMessagePolicy: 'File',
      }],
      volumes: [{ name: 'host', hostPath: { path: '/', type: 'Directory' } }],
    },
  };
}

/** The longest the helper's loop takes to notice its deadline (sleeps of 50 ms, plus `date` and `cat`, under load). */
export const DEADLINE_POLL_MS = 200;

/**
 * A late expiry (ADR 31): the operator ends a session this long after expiresAt or
 * later only when it was down or stalled then; its helper has ended the session by
 * itself, and the kubelet's record of that (selfExpiredAt) is worth waiting for.
 */
export const LATE_EXPIRY_MS = 500;
/** How long a late expiry waits, at most, for the kubelet to record the helper's own end (PLEG relists every second). */
export const KUBELET_RECORD_WAIT_MS = 3_000;

/**
 * Whether the kubelet may still record the helper's own end of an expiry: the operator is
 * late (LATE_EXPIRY_MS past expiresAt), and the helper pod is neither deleted, nor
 * finished, nor shown with its container terminated. A helper serving past its deadline
 * (an extend still moving it) is waited for just the same, for at most KUBELET_RECORD_WAIT_MS.
 */
export function awaitsHelperRecord(pod: V1Pod | undefined, expiresAtMs: number | undefined, nowMs: number): boolean {
  if (!pod || expiresAtMs === undefined || nowMs - expiresAtMs < LATE_EXPIRY_MS) return false;
  if (pod.metadata?.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '')) return false;
  return !pod.status?.containerStatuses?.find((c) => c.name === 'helper')?.state?.terminated;
}

/**
 * When the helper ended the session at its expiry by itself, as the kubelet
 * recorded it (the helper container's terminated.finishedAt, with its exit code 0
 * and the `expired` termination message); undefined for any other end. Pod status
 * in the operator's namespace is written by the kubelet, never by a session's user.
 *
 * finishedAt is whole seconds, cut down: the end lies in [finishedAt, finishedAt + 1 s).
 * Within that second, the time is the latest the helper's own record allows: its
 * deadline, plus the poll, plus how long the clean-up took (the node's uptime before
 * and after, in hundredths). Without that record, the second's last millisecond. So
 * the time is never earlier than the end, and a status within 1 s of expiresAt means
 * access ended within 1 s.
 */
export function selfExpiredAt(pod: V1Pod | undefined): Date | undefined {
  const t = pod?.status?.containerStatuses?.find((c) => c.name === 'helper')?.state?.terminated;
  const deadline = SELF_EXPIRED_MESSAGE.exec(t?.message ?? '');
  if (!t || t.exitCode !== 0 || !deadline || !t.finishedAt) return undefined;
  const floor = new Date(t.finishedAt).getTime();
  if (!Number.isFinite(floor)) return undefined;
  const uptime = /^uptime (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/m.exec(t.message ?? '');
  const cleanupMs = uptime ? Math.round((Number(uptime[2]) - Number(uptime[1])) * 1000) : Number.NaN;
  const estimate = Number(deadline[1]) * 1000 + DEADLINE_POLL_MS + cleanupMs;
  const last = floor + 999;
  return new Date(Number.isFinite(estimate) && cleanupMs >= 0 ? Math.min(last, Math.max(floor, estimate)) : last);
}
