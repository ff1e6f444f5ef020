// What makes a policy invalid beyond what the CRD schema can say (Kubernetes
// 1.20 has no CEL): cross-field rules and durations. An invalid policy allows
// nothing; the controller reports the problems in its status.
import { parseDuration } from '../api/duration.js';
import { MAX_ID } from '../api/user-spec.js';
import { validateSelector } from './selector.js';
import type { AnyExecPolicy, ApprovalRules, ClusterPolicyTargets, ExecPolicySpec, IdRange, Subject, TtlRules, UserRules } from './types.js';
import { DEFAULT_APPROVAL_TIMEOUT, DEFAULT_MAX_TTL, EXEC_POLICY_KIND, SUBJECT_KINDS } from './types.js';

/** Durations of a policy in milliseconds, with defaults applied (ttl.default has none: src/lifetime falls back). */
export interface PolicyLimits {
  defaultTtlMs?: number;
  maxTtlMs: number;
  approvalTimeoutMs: number;
}

/** Parses one duration field, adding a problem (and returning undefined) when it is bad. */
function duration(text: string, path: string, problems: string[]): number | undefined {
  try {
    return parseDuration(text);
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * The policy's durations with defaults: ttl.max 1h, approval.timeout 30m;
 * ttl.default as set (a session's ttl without one is src/lifetime's fallback);
 * and the problems found.
 */
export function policyLimits(spec: Pick<ExecPolicySpec, 'ttl' | 'approval'>): { limits?: PolicyLimits; problems: string[] } {
  const problems: string[] = [];
  const ttl: TtlRules = spec.ttl ?? {};
  const maxTtlMs = duration(ttl.max ?? DEFAULT_MAX_TTL, 'spec.ttl.max', problems);
  const defaultTtlMs = ttl.default === undefined ? undefined : duration(ttl.default, 'spec.ttl.default', problems);
  const approvalTimeoutMs = duration(spec.approval?.timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'spec.approval.timeout', problems);
  if (maxTtlMs === undefined || approvalTimeoutMs === undefined || problems.length > 0) return { problems };
  if (defaultTtlMs !== undefined && defaultTtlMs > maxTtlMs) {
    problems.push(`spec.ttl.default ${ttl.default ?? ''} is longer than spec.ttl.max ${ttl.max ?? DEFAULT_MAX_TTL}; shorten the default or raise the max`);
    return { problems };
  }
  return { limits: { ...(defaultTtlMs !== undefined ? { defaultTtlMs } : {}), maxTtlMs, approvalTimeoutMs }, problems };
}

/** Problems with a list of subjects at `path`. */
function subjectProblems(subjects: readonly Subject[] | undefined, path: string): string[] {
  return (subjects ?? []).flatMap((s, i) => {
    const at = `${path}[${i}]`;
    if (!(SUBJECT_KINDS as readonly string[]).includes(s.kind)) return [`${at}.kind ${JSON.stringify(s.kind)} is not one of ${SUBJECT_KINDS.join(', ')}`];
    if (!s.name) return [`${at}.name is empty`];
    if (s.kind === 'ServiceAccount' && !s.namespace) return [`${at} is a ServiceAccount without a namespace; set namespace`];
    return [];
  });
}

const isId = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_ID;

/** Problems with a list of id ranges at `path`. */
function rangeProblems(ranges: readonly IdRange[] | undefined, path: string): string[] {
  return (ranges ?? []).flatMap((r, i) => {
    const at = `${path}[${i}]`;
    if (!isId(r.min) || !isId(r.max)) return [`${at} must have integer min and max between 0 and ${MAX_ID}`];
    if (r.min > r.max) return [`${at} has min ${r.min} greater than max ${r.max}`];
    return [];
  });
}

/** Problems with spec.users. */
function userProblems(users: UserRules | undefined): string[] {
  const fields = ['allowedUIDs', 'deniedUIDs', 'allowedGIDs', 'deniedGIDs'] as const;
  return fields.flatMap((f) => rangeProblems(users?.[f], `spec.users.${f}`));
}

/** Problems with spec.approval. */
function approvalProblems(approval: ApprovalRules | undefined): string[] {
  const required = approval?.required ?? 0;
  if (!Number.isInteger(required) || required < 0) return [`spec.approval.required must be a whole number >= 0, not ${required}`];
  const problems = subjectProblems(approval?.approvers, 'spec.approval.approvers');
  if (required > 0 && (approval?.approvers ?? []).length === 0) {
    problems.push(`spec.approval.required is ${required} but spec.approval.approvers is empty; list who may approve`);
  }
  return problems;
}

/** Problems with spec.targets (cluster fields included when present). */
function targetProblems(targets: ClusterPolicyTargets | undefined): string[] {
  return [
    ...validateSelector(targets?.podSelector, 'spec.targets.podSelector'),
    ...validateSelector(targets?.namespaceSelector, 'spec.targets.namespaceSelector'),
  ];
}

/** Problems with spec.commands: every allowed argv needs at least the program. */
function commandProblems(commands: readonly string[][] | undefined): string[] {
  return (commands ?? []).flatMap((argv, i) => (argv.length === 0 ? [`spec.commands[${i}] is empty; give the program and its arguments`] : []));
}

/**
 * Problems that make a policy invalid, each naming the field: bad durations,
 * ranges with min > max, ttl.default > ttl.max, approvals required without
 * approvers, ServiceAccount subjects without namespace, malformed selectors,
 * empty subjects or commands, an ExecPolicy without namespace. Empty when valid.
 * evaluate() ignores invalid policies.
 */
export function validatePolicy(policy: AnyExecPolicy): string[] {
  const spec = policy.spec as ExecPolicySpec & { targets?: ClusterPolicyTargets };
  const problems: string[] = [];
  if (policy.kind === EXEC_POLICY_KIND && !policy.metadata.namespace) problems.push('metadata.namespace is empty: an ExecPolicy applies to its own namespace');
  if ((spec.subjects ?? []).length === 0) problems.push('spec.subjects is empty; list at least one User, Group or ServiceAccount');
  problems.push(
    ...subjectProblems(spec.subjects, 'spec.subjects'),
    ...targetProblems(spec.targets),
    ...userProblems(spec.users),
    ...policyLimits(spec).problems,
    ...approvalProblems(spec.approval),
    ...subjectProblems(spec.delegation?.trustedCreators, 'spec.delegation.trustedCreators'),
    ...commandProblems(spec.commands),
  );
  return problems;
}
