// TypeScript mirror of crds/execsession.dev_execpolicies.yaml and
// crds/execsession.dev_clusterexecpolicies.yaml, plus the input and output of
// the policy evaluation (evaluate.ts). The CRDs are the source of truth;
// crd.test.ts fails when the kinds, enums or field names here drift from them.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { ReasonName } from '../api/conditions.js';
import type { Condition, ContainerUser, Person } from '../api/types.js';
import { GROUP, VERSION, type RecordingMode, type SessionRecording } from '../api/types.js';

export { GROUP, VERSION };

/** `apiVersion` of both policy kinds. */
export const POLICY_API_VERSION = `${GROUP}/${VERSION}` as const;
/** Kind of the namespaced policy: applies to sessions in its own namespace. */
export const EXEC_POLICY_KIND = 'ExecPolicy';
/** Plural resource name of ExecPolicy, as used in URLs and RBAC rules. */
export const EXEC_POLICY_PLURAL = 'execpolicies';
/** Kind of the cluster-scoped policy: applies to the namespaces it targets. */
export const CLUSTER_EXEC_POLICY_KIND = 'ClusterExecPolicy';
/** Plural resource name of ClusterExecPolicy. */
export const CLUSTER_EXEC_POLICY_PLURAL = 'clusterexecpolicies';

/** Either policy kind. */
export type PolicyKind = typeof EXEC_POLICY_KIND | typeof CLUSTER_EXEC_POLICY_KIND;

/** Every value of a subject's `kind` (matches the CRD enum). */
export const SUBJECT_KINDS = ['User', 'Group', 'ServiceAccount'] as const;
/** What a subject names: a user name, a group, or a ServiceAccount. */
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Every label selector operator (matches the CRD enum and metav1.LabelSelectorOperator). */
export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
/** One of {@link SELECTOR_OPERATORS}. */
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

/** ttl.max when unset (also the CRD default). */
export const DEFAULT_MAX_TTL = '1h';
/** approval.timeout when unset (also the CRD default). */
export const DEFAULT_APPROVAL_TIMEOUT = '30m';
/** The `users.allowedNames` entry that allows every user, by name or uid. */
export const ANY_USER = '*';

/** Who a policy is about, in the style of rbacv1.Subject. */
export interface Subject {
  kind: SubjectKind;
  /** User name, group name, or ServiceAccount name. */
  name: string;
  /** ServiceAccount only (required there): the ServiceAccount's namespace. */
  namespace?: string;
}

/** One requirement of a label selector (metav1.LabelSelectorRequirement). */
export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  /** Non-empty for In and NotIn, empty for Exists and DoesNotExist. */
  values?: string[];
}

/** metav1.LabelSelector: all of matchLabels and matchExpressions must hold; empty matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** An inclusive range of numeric ids; a single id is `{min: n, max: n}`. */
export interface IdRange {
  min: number;
  max: number;
}

/** Which pods and containers an ExecPolicy covers. */
export interface PolicyTargets {
  /** Pods whose labels match; absent or empty selects every pod. */
  podSelector?: LabelSelector;
  /** Container names; absent or empty means any container. */
  containers?: string[];
}

/** Which namespaces, pods and containers a ClusterExecPolicy covers. */
export interface ClusterPolicyTargets extends PolicyTargets {
  /** Namespace names; combined with namespaceSelector by AND. Neither set: every namespace. */
  namespaces?: string[];
  /** Namespaces whose labels match. */
  namespaceSelector?: LabelSelector;
}

/** Which users and groups a session may run as inside the container. */
export interface UserRules {
  /** User names allowed; `*` allows every user. */
  allowedNames?: string[];
  /** uid ranges allowed. */
  allowedUIDs?: IdRange[];
  /** User names refused even when allowed above. */
  deniedNames?: string[];
  /** uid ranges refused even when allowed above. */
  deniedUIDs?: IdRange[];
  /** When set, every gid the session holds (primary and supplementary) must be in one of these. */
  allowedGIDs?: IdRange[];
  /** No gid the session holds may be in these. */
  deniedGIDs?: IdRange[];
  /** Allow uid 0 (and the user named root); default false. */
  allowRoot?: boolean;
  /** Allow gid 0 (and the group named root) as primary or supplementary group; default false. */
  allowRootGroup?: boolean;
}

/** Session lifetime limits, as durations such as `15m` (see api/duration.ts). */
export interface TtlRules {
  /** Used when a session sets no ttl; unset: 15m, or max when that is shorter (src/lifetime/lifetime.ts FALLBACK_TTL). */
  default?: string;
  /** Longest ttl a session may ask for; default 1h. */
  max?: string;
}

/** Whether sessions need approval, and from whom. */
export interface ApprovalRules {
  /** Number of distinct approvals needed; 0 (default) means none. */
  required?: number;
  /** Who may approve; required when `required` > 0. */
  approvers?: Subject[];
  /** The session's subject may not approve their own session; default true. */
  blockSelfApproval?: boolean;
  /** How long a session may wait for approvals before it is denied; default 30m. */
  timeout?: string;
}

/** Who may create sessions on behalf of a subject. */
export interface DelegationRules {
  /** Creators (e.g. a GitOps controller's ServiceAccount) trusted to name another subject. */
  trustedCreators?: Subject[];
}

/** What an ExecPolicy allows. */
export interface ExecPolicySpec {
  /** Who may hold a session under this policy; at least one. */
  subjects: Subject[];
  targets?: PolicyTargets;
  users?: UserRules;
  ttl?: TtlRules;
  /** Allow tty (interactive) sessions; default true. */
  interactive?: boolean;
  /** Allowed argv of non-interactive sessions, matched exactly; absent or empty allows any. */
  commands?: string[][];
  /** Whether attaches are recorded (src/recording/mode.ts decides the default). */
  recording?: RecordingMode;
  /** Also record input ("i" events); default false. */
  recordInput?: boolean;
  approval?: ApprovalRules;
  delegation?: DelegationRules;
}

/** What a ClusterExecPolicy allows: an ExecPolicySpec whose targets also pick namespaces. */
export interface ClusterExecPolicySpec extends Omit<ExecPolicySpec, 'targets'> {
  targets?: ClusterPolicyTargets;
}

/** What the operator found when it checked the policy; written only by the operator. */
export interface ExecPolicyStatus {
  /** False when validatePolicy found problems; an invalid policy allows nothing. */
  valid?: boolean;
  /** The problems, or empty when valid. */
  message?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** Namespaced policy: who may exec as whom into which pods of its namespace. */
export interface ExecPolicy {
  apiVersion: typeof POLICY_API_VERSION;
  kind: typeof EXEC_POLICY_KIND;
  metadata: V1ObjectMeta;
  spec: ExecPolicySpec;
  status?: ExecPolicyStatus;
}

/** Cluster-scoped policy: who may exec as whom into which pods of the namespaces it targets. */
export interface ClusterExecPolicy {
  apiVersion: typeof POLICY_API_VERSION;
  kind: typeof CLUSTER_EXEC_POLICY_KIND;
  metadata: V1ObjectMeta;
  spec: ClusterExecPolicySpec;
  status?: ExecPolicyStatus;
}

/** Either policy object. */
export type AnyExecPolicy = ExecPolicy | ClusterExecPolicy;

/** A policy as handed to evaluate(), tagged with its kind. */
export type PolicyEntry =
  | { kind: typeof EXEC_POLICY_KIND; policy: ExecPolicy }
  | { kind: typeof CLUSTER_EXEC_POLICY_KIND; policy: ClusterExecPolicy };

/** What the policy reads of the container user (src/api/types.ts), once resolved. */
export type ResolvedIds = Pick<ContainerUser, 'uid' | 'gid' | 'groups' | 'name'>;

/** Everything the evaluation needs to know about one ExecSession. */
export interface PolicyRequest {
  /** Who created the object (stamped by the webhook). */
  requester: Person;
  /** Set when a trusted creator creates the session for someone (delegation). */
  onBehalfOf?: Person;
  namespace: string;
  namespaceLabels: Record<string, string>;
  /** spec.podName, for messages. */
  pod: string;
  podLabels: Record<string, string>;
  /** The resolved container name (spec.container or the pod's default). */
  container: string;
  /** spec.user as written, docker format `<name|uid>[:<group|gid>]`. */
  userSpec: string;
  /** Known only after the container was inspected. */
  resolved?: ResolvedIds;
  /** spec.ttl parsed; undefined takes the policy default. */
  ttlMs?: number;
  tty: boolean;
  command?: string[];
}

/** Names a policy in decisions and messages. */
export interface PolicyRef {
  kind: PolicyKind;
  name: string;
  /** ExecPolicy only. */
  namespace?: string;
}

/** A policy allows the session, on these terms. */
export interface Allowed {
  allowed: true;
  /** The policy chosen among those that allow (see docs/policy.md). */
  policy: PolicyRef;
  /** The session's ttl, as src/lifetime decides it: its own, else the policy's ttl.default, else the fallback. */
  ttlMs: number;
  /** The policy's ttl.max: how long the session may last in all, extensions included. */
  maxTtlMs: number;
  approvalsRequired: number;
  approvers: Subject[];
  blockSelfApproval: boolean;
  approvalTimeoutMs: number;
  /** Some rule needs the resolved user; evaluate again once it is known. */
  pendingResolution: boolean;
  /** The rules waiting for resolution, e.g. `users.allowedUIDs`; empty when none. */
  pendingRules: string[];
  /** Whom the session is for: onBehalfOf when set, else the requester. */
  subject: Person;
  /** How its attaches are recorded (src/recording/mode.ts). */
  recording: SessionRecording;
}

/** No policy allows the session. */
export interface Denied {
  allowed: false;
  /** CamelCase cause: a PolicyReason, or the authorizer's PodNotFound or RbacDenied (src/api/conditions.ts). */
  reason: ReasonName;
  /** What was wrong, naming the policy and rule, and how to get access. */
  message: string;
  /** The policy whose rule refused, when one did. */
  policy?: PolicyRef;
}

/** The outcome of evaluate(). */
export type Decision = Allowed | Denied;
