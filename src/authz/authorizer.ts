/**
 * Who may do it: both RBAC and policy must pass. RBAC: the subject may create
 * pods/exec on the target pod (a SubjectAccessReview with the subject's own
 * identity). Policy: at least one ExecPolicy or ClusterExecPolicy allows the
 * request (default deny). Checked at admission (deny early) and again by the
 * controller before the helper starts and after the user is resolved (policies
 * change, and only the container knows what a name means).
 */
import { parseDuration } from '../api/duration.js';
import type { ExecSessionSpec } from '../api/types.js';
import { chooseContainer } from '../controller/decide.js';
import type { AccessSubject, Kube } from '../k8s/kube.js';
import { evaluate } from '../policy/evaluate.js';
import type { Decision, ResolvedIdentity } from '../policy/types.js';

/** What is being asked, by whom. */
export interface AuthzRequest {
  requester: AccessSubject;
  namespace: string;
  spec: ExecSessionSpec;
  resolved?: ResolvedIdentity;
}

function deny(reason: string, message: string): Decision {
  return { allowed: false, reason, message };
}

export class Authorizer {
  constructor(private readonly kube: Kube) {}

  /** The decision for a request; a denial names the rule and how to get access. */
  async authorize(r: AuthzRequest): Promise<Decision> {
    const { namespace, spec, requester } = r;
    const pod = await this.kube.getPod(namespace, spec.podName);
    if (!pod) return deny('PodNotFound', `pod ${namespace}/${spec.podName} does not exist; name a running pod in the session's namespace`);
    const rbac = await this.kube.subjectAccessReview(requester, { namespace, verb: 'create', resource: 'pods', subresource: 'exec', name: spec.podName });
    if (!rbac.allowed) {
      return deny('RbacDenied', `${requester.username} may not create pods/exec on pod ${namespace}/${spec.podName} (RBAC)`
        + `; an ExecSession needs the same permission as kubectl exec: ask for a Role granting "create" on "pods/exec" in namespace ${namespace}`);
    }
    const [policies, namespaceLabels] = await Promise.all([this.kube.listPolicies(namespace), this.kube.getNamespaceLabels(namespace)]);
    const decision = evaluate({
      requester: { username: requester.username, uid: requester.uid, groups: requester.groups ?? [] },
      namespace, namespaceLabels: namespaceLabels ?? {}, pod: spec.podName, podLabels: pod.metadata?.labels ?? {},
      container: chooseContainer(spec, pod) ?? '', userSpec: spec.user, resolved: r.resolved,
      ttlMs: spec.ttl ? parseDuration(spec.ttl) : undefined, tty: spec.tty ?? true, command: spec.command,
    }, policies);
    if (decision.allowed && decision.approvalsRequired > 0) {
      // Fail closed: a policy that asks for approval must never be treated as allowing without it.
      return deny('ApprovalNotAvailable', `${decision.policy.kind} ${decision.policy.namespace ? `${decision.policy.namespace}/` : ''}${decision.policy.name} allows this only with ${decision.approvalsRequired} approval(s), and this version of execsession cannot take approvals yet; the request is refused`);
    }
    return decision;
  }
}

/** "allowed by ClusterExecPolicy developers", for warnings and messages. */
export function describeAllowed(d: Decision): string {
  return d.allowed ? `allowed by ${d.policy.kind} ${d.policy.namespace ? `${d.policy.namespace}/` : ''}${d.policy.name}` : d.message;
}
