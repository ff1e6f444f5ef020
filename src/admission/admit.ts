/**
 * The validating webhook's decision on an ExecSession: formats and immutability
 * (review.ts), then on CREATE the operator's own namespace (never, whatever the
 * policies), RBAC and policy. Every CREATE answer carries audit annotations,
 * which kube-apiserver writes into its audit log prefixed with the webhook's
 * name (`validate.execsession.dev/decision`, ...), so the log says which policy
 * and rule decided, for whom, as which container user and for how long
 * (docs/audit.md). A refusal is counted in `execsession_denials_total`.
 */
import { formatDuration } from '../api/duration.js';
import type { Person } from '../api/types.js';
import { describeAllowed, type SessionAuthorizer } from '../authz/authorizer.js';
import { protectedTarget } from '../authz/protected-target.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import type { Decision, PolicyRef } from '../policy/types.js';
import type { Auditor } from '../audit/auditor.js';
import { admissionDenied } from '../audit/steps.js';
import { requesterOf, validate, type AdmissionRequest, type AdmissionResponse } from './review.js';

/** Audit annotation values are cut to this many characters (kube-apiserver keeps them whole in every audit event). */
const MAX_VALUE = 256;

/** What the decision is made with. */
export interface AdmitDeps {
  authorizer: SessionAuthorizer;
  /** The operator's namespace, where no session may target a pod. */
  operatorNamespace: string;
  metrics?: Pick<OperatorMetrics, 'denied'>;
  /** Refusals are audited here (requested, then denied); a dry run is not. */
  audit?: Pick<Auditor, 'emit'>;
  /** The clock (spec.notAfter is judged against it); the system's by default. */
  now?: () => Date;
}

/** `ClusterExecPolicy/developers` or `ExecPolicy/team-a/ops`. */
export function policyName(ref: PolicyRef): string {
  return `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The facts of one CREATE the annotations describe. */
interface Facts {
  decision: 'allowed' | 'denied' | 'invalid';
  subject: string;
  containerUser: string;
  ttl?: string;
  policy?: PolicyRef;
  rule?: string;
  approvalsRequired?: number;
}

/** The audit annotations of a CREATE answer: plain keys, kube-apiserver adds the webhook's name. */
export function auditAnnotations(f: Facts): Record<string, string> {
  const out: Record<string, string> = { decision: f.decision, subject: f.subject, 'container-user': f.containerUser };
  if (f.policy) out.policy = policyName(f.policy);
  if (f.rule) out.rule = f.rule;
  if (f.ttl) out.ttl = f.ttl;
  if (f.approvalsRequired) out['approvals-required'] = String(f.approvalsRequired);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.slice(0, MAX_VALUE)]));
}

/** Whom the session is for: spec.onBehalfOf when set, else the authenticated requester. */
function subjectOf(r: AdmissionRequest, requester: Person): string {
  return r.object?.spec?.onBehalfOf?.username || requester.username;
}

/** The facts of a policy or RBAC decision. */
function decisionFacts(d: Decision, base: Pick<Facts, 'subject' | 'containerUser' | 'ttl'>): Facts {
  if (!d.allowed) return { ...base, decision: 'denied', policy: d.policy, rule: d.reason };
  const rule = d.pendingRules.length > 0 ? `pending:${d.pendingRules.join(',')}` : undefined;
  return { ...base, decision: 'allowed', subject: d.subject.username, policy: d.policy, ttl: formatDuration(d.ttlMs), rule, approvalsRequired: d.approvalsRequired };
}

function forbidden(uid: string, reason: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `${reason}: ${message}` } };
}

/**
 * The validating webhook's answer. An allow names the policy (and the approvals
 * it needs) in a warning, which `kubectl create` and `--dry-run=server` show; an
 * error here fails the request (failurePolicy Fail).
 */
export async function admitSession(r: AdmissionRequest, d: AdmitDeps): Promise<AdmissionResponse> {
  const v = validate(r, d.now?.() ?? new Date());
  const spec = r.object?.spec;
  if (r.operation !== 'CREATE' || !spec) return v;
  const requester = requesterOf(r);
  const base = { subject: subjectOf(r, requester), containerUser: spec.user, ttl: spec.ttl };
  if (!v.allowed) return { ...v, auditAnnotations: auditAnnotations({ ...base, decision: 'invalid' }) };
  const counted = (reason: string, message: string, policy?: PolicyRef): void => {
    // A dry run is a question, not a request: it is annotated but not counted.
    if (r.dryRun) return;
    d.metrics?.denied('admission', reason);
    const name = r.object?.metadata?.name ?? r.name ?? '';
    for (const e of admissionDenied({
      requestUID: r.uid, namespace: r.namespace ?? '', name, requester, subject: base.subject, containerUser: spec.user,
      pod: spec.podName, container: spec.container, policy, reason, message, now: d.now?.() ?? new Date(),
    })) d.audit?.emit(e);
  };
  const guarded = protectedTarget(r.namespace ?? '', d.operatorNamespace);
  if (guarded) {
    counted(guarded.reason, guarded.message);
    return { ...forbidden(r.uid, guarded.reason, guarded.message), auditAnnotations: auditAnnotations({ ...base, decision: 'denied', rule: guarded.reason }) };
  }
  const decision = await d.authorizer.authorize({ requester, namespace: r.namespace ?? '', spec });
  const auditAnnotationsOf = auditAnnotations(decisionFacts(decision, base));
  if (!decision.allowed) {
    counted(decision.reason, decision.message, decision.policy);
    return { ...forbidden(r.uid, decision.reason, decision.message), auditAnnotations: auditAnnotationsOf };
  }
  const later = decision.pendingResolution ? '; checked again once the user is resolved inside the container' : '';
  // An approval policy admits the session; the controller holds it in WaitingForApproval.
  const approve = decision.approvalsRequired > 0 ? `; approve with: kubectl execsession approve ${r.object?.metadata?.name ?? r.name ?? 'NAME'} -n ${r.namespace ?? 'NAMESPACE'}` : '';
  return { uid: r.uid, allowed: true, warnings: [`${describeAllowed(decision, requester)}${later}${approve}`], auditAnnotations: auditAnnotationsOf };
}
