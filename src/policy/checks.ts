// The rules of one policy as a chain of pure checks (style.md rule 4). Each
// check either passes (undefined), refuses with a Violation, or cannot tell yet
// because it needs the user resolved inside the container (Pending). The first
// violation wins; pending checks let the session through for now and the
// controller evaluates again once the identity is resolved.
import { formatDuration } from '../api/duration.js';
import { PolicyReason, type PolicyReasonName } from '../api/conditions.js';
import { sessionTtlMs } from '../lifetime/lifetime.js';
import type { ClusterExecPolicySpec, ExecPolicySpec, PolicyRef, PolicyRequest } from './types.js';
import { ANY_USER } from './types.js';
import type { UserFacts } from './user-facts.js';
import { describeUser, formatRanges, hasRootGroup, inRanges, isRootUser } from './user-facts.js';

/** A valid policy, prepared for evaluation (durations parsed, defaults applied). */
export interface Candidate {
  ref: PolicyRef;
  spec: ExecPolicySpec | ClusterExecPolicySpec;
  /** ttl.default, when set (the session's ttl is src/lifetime's to decide). */
  defaultTtlMs?: number;
  maxTtlMs: number;
  approvalTimeoutMs: number;
}

/** The request plus what is known about the container user. */
export interface CheckRequest extends PolicyRequest {
  user: UserFacts;
}

/** A rule refused the session. */
export interface Violation {
  reason: PolicyReasonName;
  /** Names the policy and the rule, and says how to get access. */
  message: string;
}

/** Rules that cannot be decided before the user is resolved, e.g. `users.allowedUIDs`. */
export interface Pending {
  pending: string[];
}

/** What one check found. */
export type CheckResult = Violation | Pending | undefined;

/** One rule of a policy, applied to one request. */
export type Check = (req: CheckRequest, policy: Candidate) => CheckResult;

/** `ExecPolicy "team-a/ops"` or `ClusterExecPolicy "developers"`, for messages. */
export function describeRef(ref: PolicyRef): string {
  const name = ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
  return `${ref.kind} ${JSON.stringify(name)}`;
}

/** A violation whose message reads "<policy> <problem>; <what to do>". */
function violation(reason: PolicyReasonName, policy: Candidate, problem: string, fix: string): Violation {
  return { reason, message: `${describeRef(policy.ref)} ${problem}; ${fix}` };
}

/** Pending on the rules whose condition is true, or undefined when none. */
function pendingOn(rules: Array<[boolean, string]>): Pending | undefined {
  const pending = rules.filter(([waiting]) => waiting).map(([, rule]) => rule);
  return pending.length > 0 ? { pending } : undefined;
}

const list = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

// uid 0, or a user named root, only where users.allowRoot is true.
const rootUser: Check = (req, policy) => {
  if (policy.spec.users?.allowRoot) return undefined;
  const root = isRootUser(req.user);
  if (root === undefined) return { pending: ['users.allowRoot'] };
  if (!root) return undefined;
  return violation(PolicyReason.RootUserDenied, policy,
    `does not allow root: ${describeUser(req.user)} is root and users.allowRoot is not true`,
    'run as a non-root user (e.g. the container\'s own), or ask the policy\'s owner for users.allowRoot: true');
};

// gid 0, or a group named root, as primary or supplementary group only where users.allowRootGroup is true.
const rootGroup: Check = (req, policy) => {
  if (policy.spec.users?.allowRootGroup) return undefined;
  const root = hasRootGroup(req.user);
  if (root === undefined) return { pending: ['users.allowRootGroup'] };
  if (!root) return undefined;
  const { spec, specGroup, gids } = req.user;
  const holds = specGroup !== undefined && (specGroup === 'root' || specGroup === '0')
    ? `names the root group ${JSON.stringify(specGroup)}`
    : `would hold gid 0 (groups: ${(gids ?? []).join(', ')})`;
  return violation(PolicyReason.RootGroupDenied, policy,
    `does not allow the root group: spec.user ${JSON.stringify(spec)} ${holds} and users.allowRootGroup is not true`,
    'name a non-root group explicitly, e.g. "<user>:<gid>" (an explicit group also drops supplementary groups), or ask the policy\'s owner for users.allowRootGroup: true');
};

// users.deniedNames and users.deniedUIDs refuse a user even when the allow lists admit it.
const deniedUser: Check = (req, policy) => {
  const names = policy.spec.users?.deniedNames ?? [];
  const uids = policy.spec.users?.deniedUIDs ?? [];
  const { name, uid, nameKnown } = req.user;
  const fix = 'choose another user';
  if (name !== undefined && names.includes(name)) {
    return violation(PolicyReason.UserDenied, policy, `denies ${describeUser(req.user)}: it is in users.deniedNames`, fix);
  }
  if (uid !== undefined && inRanges(uid, uids)) {
    return violation(PolicyReason.UserDenied, policy, `denies uid ${uid}: it is in users.deniedUIDs (${formatRanges(uids)})`, fix);
  }
  return pendingOn([[!nameKnown && names.length > 0, 'users.deniedNames'], [uid === undefined && uids.length > 0, 'users.deniedUIDs']]);
};

// The user must be in users.allowedNames ("*" allows everyone) or in users.allowedUIDs.
const allowedUser: Check = (req, policy) => {
  const names = policy.spec.users?.allowedNames ?? [];
  const uids = policy.spec.users?.allowedUIDs ?? [];
  const { name, uid, nameKnown } = req.user;
  if (names.includes(ANY_USER)) return undefined;
  if (name !== undefined && names.includes(name)) return undefined;
  if (uid !== undefined && inRanges(uid, uids)) return undefined;
  const waiting = pendingOn([[!nameKnown && names.length > 0, 'users.allowedNames'], [uid === undefined && uids.length > 0, 'users.allowedUIDs']]);
  if (waiting) return waiting;
  const allowed = names.length + uids.length === 0
    ? 'it allows no user (users.allowedNames and users.allowedUIDs are empty)'
    : `it allows only users.allowedNames [${list(names)}] and users.allowedUIDs [${formatRanges(uids)}]`;
  return violation(PolicyReason.UserNotAllowed, policy, `does not allow ${describeUser(req.user)}: ${allowed}`,
    'choose an allowed user, or ask the policy\'s owner to allow this one');
};

// No group the session holds may be in users.deniedGIDs.
const deniedGroups: Check = (req, policy) => {
  const ranges = policy.spec.users?.deniedGIDs ?? [];
  if (ranges.length === 0) return undefined;
  const gids = req.user.gids;
  if (gids === undefined) return { pending: ['users.deniedGIDs'] };
  const bad = gids.find((gid) => inRanges(gid, ranges));
  if (bad === undefined) return undefined;
  return violation(PolicyReason.GroupDenied, policy,
    `denies gid ${bad}, which spec.user ${JSON.stringify(req.user.spec)} would hold: it is in users.deniedGIDs (${formatRanges(ranges)})`,
    'name another group explicitly, e.g. "<user>:<gid>" (an explicit group also drops supplementary groups)');
};

// With users.allowedGIDs set, every group the session holds must be in it.
const allowedGroups: Check = (req, policy) => {
  const ranges = policy.spec.users?.allowedGIDs ?? [];
  if (ranges.length === 0) return undefined;
  const gids = req.user.gids;
  if (gids === undefined) return { pending: ['users.allowedGIDs'] };
  const bad = gids.find((gid) => !inRanges(gid, ranges));
  if (bad === undefined) return undefined;
  return violation(PolicyReason.GroupNotAllowed, policy,
    `does not allow gid ${bad}, which spec.user ${JSON.stringify(req.user.spec)} would hold: users.allowedGIDs is ${formatRanges(ranges)}`,
    'name an allowed group explicitly, e.g. "<user>:<gid>" (an explicit group also drops supplementary groups)');
};

// The session's ttl, as src/lifetime decides it (its own, else the policy's default), must not exceed ttl.max.
const ttlWithinMax: Check = (req, policy) => {
  const ttl = sessionTtlMs(req.ttlMs, policy);
  if (ttl <= policy.maxTtlMs) return undefined;
  const max = formatDuration(policy.maxTtlMs);
  return violation(PolicyReason.TtlTooLong, policy,
    `allows sessions of at most ${max} (ttl.max), and this one asks for ${formatDuration(ttl)}`,
    `set spec.ttl to ${max} or less, and create another session when it ends`);
};

// Sessions with a terminal only where interactive is not false.
const interactiveAllowed: Check = (req, policy) => {
  if (!req.tty || policy.spec.interactive !== false) return undefined;
  return violation(PolicyReason.InteractiveNotAllowed, policy,
    'does not allow interactive sessions (interactive is false)',
    'set spec.tty: false and run an allowed command');
};

// Without a terminal, the command must equal one of commands exactly, when commands is set.
const commandAllowed: Check = (req, policy) => {
  const commands = policy.spec.commands ?? [];
  if (req.tty || commands.length === 0) return undefined;
  const argv = req.command;
  if (argv && commands.some((c) => c.length === argv.length && c.every((arg, i) => arg === argv[i]))) return undefined;
  const got = argv ? `got ${JSON.stringify(argv)}` : 'this session sets no command (it would run the login shell)';
  return violation(PolicyReason.CommandNotAllowed, policy,
    `allows only these commands without a terminal: ${commands.map((c) => JSON.stringify(c)).join(', ')}; ${got}`,
    'set spec.command to one of them exactly');
};

/** The rules of a policy, in the order they are checked; the first violation wins. */
export const CHECKS: readonly Check[] = [
  rootUser,
  rootGroup,
  deniedUser,
  allowedUser,
  deniedGroups,
  allowedGroups,
  ttlWithinMax,
  interactiveAllowed,
  commandAllowed,
];

/** What one policy says about one request. */
export interface ChainResult {
  /** The first rule that refused, if any. */
  violation?: Violation;
  /** Rules (before any violation) that wait for the resolved user. */
  pending: string[];
}

/** Runs the checks in order, stopping at the first violation. */
export function runChecks(req: CheckRequest, policy: Candidate, checks: readonly Check[] = CHECKS): ChainResult {
  const pending: string[] = [];
  for (const check of checks) {
    const result = check(req, policy);
    if (result === undefined) continue;
    if ('reason' in result) return { violation: result, pending };
    pending.push(...result.pending);
  }
  return { pending };
}
