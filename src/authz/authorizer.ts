/**
 * Who may do it: both RBAC and policy must pass. RBAC: the subject (the
 * requester, or spec.onBehalfOf for a delegated session) may create pods/exec on
 * the target pod (a SubjectAccessReview with the subject's own identity). Policy: at least one ExecPolicy or ClusterExecPolicy allows the
 * request (default deny). Checked at admission (deny early) and again by the
 * controller before the helper starts and after the user is resolved (policies
 * change, and only the container knows what a name means).
 */
import { Reason, type ReasonName } from '../api/conditions.js';
import { chooseContainer } from '../api/container.js';
import { parseDuration } from '../api/duration.js';
import { sessionRequester } from '../api/subject.js';
import type { ExecSession, ExecSessionSpec, Person } from '../api/types.js';
import { describeApprovers, type ApprovalTerms } from '../approval/approvals.js';
import type { Kube } from '../k8s/kube.js';
import { evaluate } from '../policy/evaluate.js';
import type { Allowed, Decision, ResolvedIds } from '../policy/types.js';

/** What is being asked, by whom. */
export interface AuthzRequest {
  /** Who created the session (the stamped requester, or the admission request's user). */
  requester: Person;
  namespace: string;
  /** The spec; spec.onBehalfOf, when set, names the subject. */
  spec: ExecSessionSpec;
  resolved?: ResolvedIds;
}

/** The request for a stamped session: its requester from the stamp (verify the stamp first). */
export function authzRequestOf(s: ExecSession, resolved?: ResolvedIds): AuthzRequest {
  return { requester: sessionRequester(s.spec), namespace: s.metadata.namespace ?? '', spec: s.spec, ...(resolved ? { resolved } : {}) };
}

function deny(reason: ReasonName, message: string): Decision {
  return { allowed: false, reason, message };
}

const AUTHENTICATED = 'system:authenticated';

/**
 * Whom the RBAC check asks about: the requester, or for a delegated session the
 * subject named in spec.onBehalfOf. The API server gives every authenticated user
 * system:authenticated, so the delegated subject gets it too (bindings to it apply
 * to them as they would if they had created the session themselves).
 */
function rbacSubject(r: AuthzRequest): Person {
  if (!r.spec.onBehalfOf?.username) return r.requester;
  const groups = r.spec.onBehalfOf.groups ?? [];
  return { username: r.spec.onBehalfOf.username, groups: groups.includes(AUTHENTICATED) ? [...groups] : [...groups, AUTHENTICATED] };
}

/** The decision for a request: what the controller, the webhook and extend are given (a seam for tests). */
export interface SessionAuthorizer {
  authorize(r: AuthzRequest): Promise<Decision>;
}

export class Authorizer implements SessionAuthorizer {
  constructor(private readonly kube: Kube) {}

  /**
   * The decision for a request; a denial names the rule and how to get access.
   * An allow may require approvals (approvalsRequired > 0): the caller must then
   * hold the session until they are given (src/approval/approvals.ts).
   */
  async authorize(r: AuthzRequest): Promise<Decision> {
    const { namespace, spec } = r;
    const pod = await this.kube.getPod(namespace, spec.podName);
    if (!pod) return deny(Reason.PodNotFound, `spec.podName: pod ${namespace}/${spec.podName} does not exist; name a running pod in the session's namespace`);
    const delegated = Boolean(r.spec.onBehalfOf?.username);
    const subject = rbacSubject(r);
    const rbac = await this.kube.subjectAccessReview(subject, { namespace, verb: 'create', resource: 'pods', subresource: 'exec', name: spec.podName });
    if (!rbac.allowed) {
      const forWhom = !delegated ? '' : ` (the session is for ${subject.username}, created by ${r.requester.username}; the check is about ${subject.username})`;
      return deny(Reason.RbacDenied, `${subject.username} may not create pods/exec on pod ${namespace}/${spec.podName} (RBAC)${forWhom}`
        + `; an ExecSession needs the same permission as kubectl exec: ask for a Role granting "create" on "pods/exec" in namespace ${namespace}`);
    }
    const [policies, namespaceLabels] = await Promise.all([this.kube.listPolicies(namespace), this.kube.getNamespaceLabels(namespace)]);
    return evaluate({
      requester: r.requester,
      ...(delegated ? { onBehalfOf: subject } : {}),
      namespace, namespaceLabels: namespaceLabels ?? {}, pod: spec.podName, podLabels: pod.metadata?.labels ?? {},
      container: chooseContainer(spec, pod) ?? '', userSpec: spec.user, resolved: r.resolved,
      ttlMs: spec.ttl ? parseDuration(spec.ttl) : undefined, tty: spec.tty ?? true, command: spec.command,
    }, policies);
  }
}

/** The approval terms of an allowing decision, for src/approval/approvals.ts. */
export function approvalTerms(d: Allowed, requester: Person): ApprovalTerms {
  return { required: d.approvalsRequired, approvers: d.approvers, blockSelfApproval: d.blockSelfApproval, subject: d.subject, requester };
}

/** `ClusterExecPolicy developers`, `ExecPolicy team-a/ops`. */
export function describePolicy(d: Allowed): string {
  return `${d.policy.kind} ${d.policy.namespace ? `${d.policy.namespace}/` : ''}${d.policy.name}`;
}

/**
 * "allowed by ClusterExecPolicy developers", for warnings and messages; with the
 * approvals it needs ("once 1 approval(s) from group "approvers"") and, for a
 * delegated session, whom it is for.
 */
export function describeAllowed(d: Decision, requester?: { username: string }): string {
  if (!d.allowed) return d.message;
  const forWhom = requester && d.subject.username !== requester.username ? ` for user ${JSON.stringify(d.subject.username)}` : '';
  const approvals = d.approvalsRequired > 0 ? ` once ${d.approvalsRequired} approval(s) from ${describeApprovers(d.approvers)}` : '';
  return `allowed${forWhom} by ${describePolicy(d)}${approvals}`;
}
