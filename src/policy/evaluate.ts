// The policy decision for one ExecSession: which policies apply, whether one
// of them allows the session, and on what terms. Pure: everything it needs is
// in the request and the policy list, so the webhook and the controller can
// both call it, and tests need no cluster. See docs/policy.md.
import { UserSpecError } from '../api/user-spec.js';
import { sessionTtlMs } from '../lifetime/lifetime.js';
import type { Candidate, CheckRequest, Violation } from './checks.js';
import { describeRef, runChecks } from './checks.js';
import { matchesSelector } from './selector.js';
import { describePerson, matchesAnySubject } from './subjects.js';
import { PolicyReason } from '../api/conditions.js';
import type { Person } from '../api/types.js';
import type { ClusterPolicyTargets, Decision, Denied, PolicyEntry, PolicyRef, PolicyRequest } from './types.js';
import { EXEC_POLICY_KIND } from './types.js';
import type { UserFacts } from './user-facts.js';
import { userFacts } from './user-facts.js';
import { policyLimits, validatePolicy } from './validate.js';
import { sessionRecording } from '../recording/mode.js';

export { validatePolicy };

/** A policy entry with its reference and, when valid, its parsed limits. */
interface Entry {
  ref: PolicyRef;
  spec: Candidate['spec'];
  candidate?: Candidate;
  problems: string[];
}

/** Prepares one entry: validates it and, when valid, parses its durations. */
function prepare(entry: PolicyEntry): Entry {
  const { policy } = entry;
  const ref: PolicyRef = entry.kind === EXEC_POLICY_KIND
    ? { kind: entry.kind, name: policy.metadata.name ?? '', namespace: policy.metadata.namespace ?? '' }
    : { kind: entry.kind, name: policy.metadata.name ?? '' };
  const problems = validatePolicy(policy);
  const { limits } = policyLimits(policy.spec);
  if (problems.length > 0 || !limits) return { ref, spec: policy.spec, problems };
  return { ref, spec: policy.spec, candidate: { ref, spec: policy.spec, ...limits }, problems };
}

/** True when the policy's namespace rules cover the request's namespace. */
function coversNamespace(entry: Entry, req: PolicyRequest): boolean {
  if (entry.ref.kind === EXEC_POLICY_KIND) return entry.ref.namespace === req.namespace;
  const targets: ClusterPolicyTargets = entry.spec.targets ?? {};
  const names = targets.namespaces ?? [];
  // namespaces and namespaceSelector must both hold when both are set.
  if (names.length > 0 && !names.includes(req.namespace)) return false;
  return matchesSelector(targets.namespaceSelector, req.namespaceLabels);
}

/** True when the policy is about this subject, namespace, pod and container. */
function covers(entry: Entry, req: PolicyRequest, subject: Person): boolean {
  const containers = entry.spec.targets?.containers ?? [];
  return matchesAnySubject(subject, entry.spec.subjects)
    && coversNamespace(entry, req)
    && matchesSelector(entry.spec.targets?.podSelector, req.podLabels)
    && (containers.length === 0 || containers.includes(req.container));
}

const kindRank = (ref: PolicyRef): number => (ref.kind === EXEC_POLICY_KIND ? 0 : 1);
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The order in which policies are tried, and so which one is chosen when
 * several allow: fewest required approvals, then ExecPolicy before
 * ClusterExecPolicy, then by name (code-unit order, independent of locale).
 */
export function comparePolicies(a: Candidate, b: Candidate): number {
  return (a.spec.approval?.required ?? 0) - (b.spec.approval?.required ?? 0)
    || kindRank(a.ref) - kindRank(b.ref)
    || compareText(a.ref.name, b.ref.name)
    || compareText(a.ref.namespace ?? '', b.ref.namespace ?? '');
}

/** `user "alice" (groups: "dev"; created on their behalf by user "flux")`, for messages. */
function describeSubjectOf(req: PolicyRequest): string {
  const subject = req.onBehalfOf ?? req.requester;
  const notes = [
    ...(subject.groups.length > 0 ? [`groups: ${subject.groups.map((g) => JSON.stringify(g)).join(', ')}`] : []),
    ...(req.onBehalfOf ? [`created on their behalf by ${describePerson(req.requester)}`] : []),
  ];
  return `${describePerson(subject)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

/** ` (ClusterExecPolicy "x" would cover it but is invalid: <first problem>)`, or empty. */
function describeInvalid(invalid: Entry[]): string {
  if (invalid.length === 0) return '';
  const each = invalid.map((e) => {
    const more = e.problems.length > 1 ? ` (and ${e.problems.length - 1} more, see its status)` : '';
    return `${describeRef(e.ref)} would cover it but is invalid: ${e.problems[0] ?? ''}${more}`;
  });
  return ` [${each.join('. ')}]`;
}

/** Denial when no valid policy covers the subject here. */
function noPolicy(req: PolicyRequest, invalid: Entry[]): Denied {
  return {
    allowed: false,
    reason: PolicyReason.NoPolicy,
    message: `no ExecPolicy in namespace ${JSON.stringify(req.namespace)} and no ClusterExecPolicy lets ${describeSubjectOf(req)} `
      + `exec into container ${JSON.stringify(req.container)} of pod ${JSON.stringify(req.pod)} in namespace ${JSON.stringify(req.namespace)}`
      + `${describeInvalid(invalid)}; ask an admin for an ExecPolicy in ${JSON.stringify(req.namespace)} or a ClusterExecPolicy `
      + 'that lists this user (or one of their groups) in spec.subjects and whose spec.targets cover this pod and container',
  };
}

/** Denial when policies cover the subject but none trusts the creator to act for them. */
function creatorNotTrusted(req: PolicyRequest, covering: Candidate[]): Denied {
  const subject = describePerson(req.onBehalfOf ?? req.requester);
  const first = covering[0];
  return {
    allowed: false,
    reason: PolicyReason.CreatorNotTrusted,
    message: `${describePerson(req.requester)} is not trusted to create sessions on behalf of ${subject}: `
      + `no policy covering ${subject} (${covering.map((c) => describeRef(c.ref)).join(', ')}) lists it in spec.delegation.trustedCreators; `
      + `let ${subject} create the session, or ask an admin to add the creator to spec.delegation.trustedCreators`,
    ...(first ? { policy: first.ref } : {}),
  };
}

/** Denial from the violation of a policy. */
function violated(policy: Candidate, v: Violation): Denied {
  return { allowed: false, reason: v.reason, message: v.message, policy: policy.ref };
}

/** The terms of an allowing policy. */
function allow(policy: Candidate, req: PolicyRequest, pending: string[]): Decision {
  const approval = policy.spec.approval ?? {};
  return {
    allowed: true,
    policy: policy.ref,
    ttlMs: sessionTtlMs(req.ttlMs, policy),
    maxTtlMs: policy.maxTtlMs,
    approvalsRequired: approval.required ?? 0,
    approvers: approval.approvers ?? [],
    blockSelfApproval: approval.blockSelfApproval ?? true,
    approvalTimeoutMs: policy.approvalTimeoutMs,
    pendingResolution: pending.length > 0,
    pendingRules: [...new Set(pending)],
    subject: req.onBehalfOf ?? req.requester,
    recording: sessionRecording({ policyMode: policy.spec.recording, approvalsRequired: approval.required ?? 0, recordInput: policy.spec.recordInput }),
  };
}

/** Facts about spec.user, or the denial when it is malformed. */
function factsOrDenial(req: PolicyRequest): UserFacts | Denied {
  try {
    return userFacts(req.userSpec, req.resolved);
  } catch (err) {
    if (!(err instanceof UserSpecError)) throw err;
    return { allowed: false, reason: PolicyReason.InvalidUserSpec, message: `${err.message}; fix spec.user, e.g. "1000" or "alice"` };
  }
}

/**
 * Decides whether `request` is allowed by `policies` (default deny).
 *
 * Invalid policies are ignored. The subject is `onBehalfOf` when set (then the
 * requester must be one of a policy's delegation.trustedCreators for that
 * policy to apply), else the requester. Applicable policies are tried in
 * {@link comparePolicies} order, each through the check chain; the first that
 * allows is chosen. When none allows, the denial is the first one's violation.
 */
export function evaluate(request: PolicyRequest, policies: readonly PolicyEntry[]): Decision {
  const facts = factsOrDenial(request);
  if ('allowed' in facts) return facts;
  const subject = request.onBehalfOf ?? request.requester;
  const entries = policies.map(prepare).filter((e) => covers(e, request, subject));
  const covering = entries.flatMap((e) => (e.candidate ? [e.candidate] : [])).sort(comparePolicies);
  if (covering.length === 0) return noPolicy(request, entries.filter((e) => !e.candidate));
  const applicable = request.onBehalfOf
    ? covering.filter((c) => matchesAnySubject(request.requester, c.spec.delegation?.trustedCreators))
    : covering;
  if (applicable.length === 0) return creatorNotTrusted(request, covering);
  const req: CheckRequest = { ...request, user: facts };
  let firstDenial: Denied | undefined;
  for (const policy of applicable) {
    const { violation, pending } = runChecks(req, policy);
    if (!violation) return allow(policy, request, pending);
    firstDenial ??= violated(policy, violation);
  }
  // applicable is not empty, so at least one policy denied.
  return firstDenial ?? noPolicy(request, []);
}
