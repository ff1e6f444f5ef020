// TypeScript mirror of crds/execsession.dev_execsessions.yaml. The CRD is the
// source of truth; crd.test.ts fails when the enums here drift from it.
import type { V1ObjectMeta } from '@kubernetes/client-node';

/** API group of every execsession.dev resource. */
export const GROUP = 'execsession.dev';
/** Served and stored version of the ExecSession CRD. */
export const VERSION = 'v1alpha1';
/** Plural resource name, as used in URLs and RBAC rules. */
export const PLURAL = 'execsessions';
/** Kind of the ExecSession custom resource. */
export const KIND = 'ExecSession';
/** `apiVersion` value of every ExecSession object. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** Every value of `status.phase`, in lifecycle order (matches the CRD enum). */
export const PHASES = [
  'Pending',
  'WaitingForApproval',
  'Approved',
  'Starting',
  'Ready',
  'Running',
  'Succeeded',
  'Failed',
  'Expired',
  'Denied',
  'Terminated',
] as const;

/** Coarse lifecycle summary of a session, for display; decisions use conditions. */
export type Phase = (typeof PHASES)[number];

/** Phases a session never leaves: once reached, the operator only cleans up. */
export const TERMINAL_PHASES = [
  'Succeeded',
  'Failed',
  'Expired',
  'Denied',
  'Terminated',
] as const satisfies readonly Phase[];

/** True when `phase` is final (see {@link TERMINAL_PHASES}); undefined is not final. */
export function isTerminalPhase(phase: Phase | undefined): boolean {
  return phase !== undefined && (TERMINAL_PHASES as readonly Phase[]).includes(phase);
}

/** Every value of `status.backend` (matches the CRD enum). */
export const BACKENDS = ['runtime', 'nsenter'] as const;

/** How a session enters the container: the runtime's exec, or nsenter from the node. */
export type Backend = (typeof BACKENDS)[number];

/** Status of a condition, as in metav1.Condition. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One observation of the session's state, shaped like metav1.Condition. */
export interface Condition {
  /** CamelCase condition type, unique within the list (see conditions.ts). */
  type: string;
  status: ConditionStatus;
  /** metadata.generation when the condition was set. */
  observedGeneration?: number;
  /** RFC 3339 time when `status` last changed. */
  lastTransitionTime: string;
  /** CamelCase machine-readable cause (see conditions.ts). */
  reason: string;
  /** Human-readable detail: what was wrong and what to do instead. May be empty. */
  message: string;
}

/** What to run, where, and as whom; written by the requester. */
export interface ExecSessionSpec {
  /** Target pod, in the session's namespace (DNS subdomain name). */
  podName: string;
  /** Target container; empty means the pod's default-container annotation, else its first container. */
  container?: string;
  /** Docker-format user: `<name|uid>[:<group|gid>]`, e.g. `1000:1000` or `postgres`. */
  user: string;
  /** Program and arguments; absent means the user's login shell, else /bin/sh. */
  command?: string[];
  /** Allocate a terminal; the API server defaults it to true. */
  tty?: boolean;
  /**
   * Session lifetime such as `15m` or `1h30m` (see duration.ts). Unset: the
   * policy's ttl.default, else 15m (src/lifetime/lifetime.ts decides, at start).
   */
  ttl?: string;
  /** Why access is needed, kept for the record. */
  reason?: string;
  /**
   * The session's absolute end (RFC 3339), fixed at creation: admission refuses
   * a session whose notAfter has passed, so a copy re-applied from Git after its
   * end cannot reopen access; expiresAt never goes past it (src/lifetime).
   */
  notAfter?: string;
  /** Who created the session, stamped and signed by the admission webhook (src/signing/stamp.ts). */
  requester?: {
    username: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
    stampedAt?: string;
    signature?: string;
  };
  /**
   * Whom the session is for, when a trusted creator (e.g. a GitOps controller)
   * creates it for someone else: the session's subject for policy, RBAC,
   * approvals and attach. Covered by the stamp's signature; immutable.
   */
  onBehalfOf?: OnBehalfOf;
}

/**
 * A person as the API server authenticated them (authentication.k8s.io
 * UserInfo): who created a session, whom it is for, who calls the aggregated
 * API, whom RBAC and policies are asked about. Read from the wire (spec.requester,
 * spec.onBehalfOf, an admission review, the front proxy's headers) in one place
 * each; everything after that passes a Person.
 */
export interface Person {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The subject a delegated session is for (spec.onBehalfOf). */
export interface OnBehalfOf {
  username: string;
  groups?: string[];
}

/** Every value of an approval record's `decision` (matches the CRD enum). */
export const APPROVAL_DECISIONS = ['Approved', 'Denied'] as const;

/** What an approver decided. */
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/**
 * One approver's decision, written by the aggregated API's approve/deny from the
 * caller's forwarded identity and signed with the operator's key
 * (src/approval/approvals.ts); the controller ignores entries that do not verify.
 */
export interface ApprovalRecord {
  decision: ApprovalDecision;
  username: string;
  groups?: string[];
  /** When the decision was made (RFC 3339, whole seconds). */
  at: string;
  reason?: string;
  /** base64 HMAC-SHA256 over the session's identity and this record. */
  signature: string;
}

/**
 * Whom a session runs as inside the container: spec.user resolved against the
 * container's /etc/passwd and /etc/group (src/exec/resolve-user.ts), as
 * `docker exec -u` would. The controller writes it to status.user (sealed), and
 * policy, the backends and attach read that one shape.
 */
export interface ContainerUser {
  uid: number;
  /** Primary gid. */
  gid: number;
  /** additionalGids for the OCI process spec: primary gid plus supplementary gids, sorted, unique. */
  groups: number[];
  /** Name of the passwd entry used, absent for a uid without an entry. */
  name?: string;
  /** Home directory ("/" when the uid has no passwd entry or an empty home field). */
  home: string;
  /** Login shell from passwd, absent when there is none. */
  shell?: string;
  /** uid is 0. */
  root: boolean;
  /** gid 0 is the primary or a supplementary group. */
  rootGroup: boolean;
}

/** The helper pod that enters the container on the target node. */
export interface HelperPodRef {
  namespace: string;
  name: string;
}

/** How to connect a terminal to a Ready session. */
export interface AttachInfo {
  url: string;
  /** Ready-to-paste command line that attaches. */
  command?: string;
  /**
   * Path of the browser terminal page on the API server (docs/browser.md): open it with
   * `kubectl execsession web NAME`, or through `kubectl proxy`.
   */
  terminalPath?: string;
}

/** Outcome of a non-interactive command. */
export interface CommandResult {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** stdout or stderr was cut to fit the size limit. */
  truncated?: boolean;
}

/** Every value of a policy's `recording` (matches the CRD enums). */
export const RECORDING_MODES = ['Required', 'BestEffort', 'Off'] as const;
/** Required: no recording, no attach (fail closed). BestEffort: recorded when the store works. Off: never. */
export type RecordingMode = (typeof RECORDING_MODES)[number];

/** How a session's attaches are recorded: status.recording, sealed (docs/audit.md). */
export interface SessionRecording {
  mode: RecordingMode;
  /** Input ("i" events) is recorded too. */
  input?: boolean;
}

/** What the operator observed and did; written only by the operator. Times are RFC 3339. */
export interface ExecSessionStatus {
  phase?: Phase;
  conditions?: Condition[];
  observedGeneration?: number;
  node?: string;
  /** Resolved container name (spec.container or the pod's default). */
  container?: string;
  containerID?: string;
  /** Container runtime, e.g. `containerd`. */
  runtime?: string;
  backend?: Backend;
  user?: ContainerUser;
  helperPod?: HelperPodRef;
  attach?: AttachInfo;
  /** Set by the `revoke` subresource; the controller then ends the session Terminated/Revoked. */
  revocation?: { username: string; at: string; reason?: string };
  startedAt?: string;
  /** startedAt + ttl, stored once so operator restarts do not extend the session; moved only by extend. */
  expiresAt?: string;
  /** The latest expiresAt an extend may set: startedAt + the policy's ttl.max when the session started. */
  extendableUntil?: string;
  /** How attaches are recorded, decided from the policy when the session went live. */
  recording?: SessionRecording;
  endedAt?: string;
  result?: CommandResult;
  /** Approvals and denials, in the order they were given. */
  approvals?: ApprovalRecord[];
  message?: string;
  /**
   * base64 HMAC-SHA256, under the operator's key, over the session's identity and
   * the status fields the operator acts on (src/signing/seal.ts); written with them.
   */
  seal?: string;
}

/** A request to enter a running container as a chosen user for a limited time. */
export interface ExecSession {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta;
  spec: ExecSessionSpec;
  status?: ExecSessionStatus;
}
