/**
 * What the validating webhook checks on an ExecSession, beyond the CRD schema
 * (Kubernetes 1.20 has no CEL): the formats the schema cannot express on CREATE,
 * and on UPDATE that the stamp and the target never change. Each problem says
 * what is wrong and what to do instead.
 */
import { commandTooLarge } from '../api/command-limits.js';
import { parseDuration } from '../api/duration.js';
import type { ExecSessionSpec } from '../api/types.js';
import { UserSpecError, parseUserSpec } from '../api/user-spec.js';
import { notAfterProblem } from '../lifetime/lifetime.js';
import { canonicalJson } from '../signing/hmac.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Fields fixed once created: who asked and what they may enter, and why they
 * said they needed it (spec.reason is the record approvers and auditors read).
 */
export const IMMUTABLE_FIELDS = ['requester', 'onBehalfOf', 'podName', 'container', 'user', 'command', 'tty', 'ttl', 'reason', 'notAfter'] as const;

type Spec = ExecSessionSpec & { requester?: unknown };

/** Problems with a new session's spec at `now`; empty when it is fine. */
export function validateCreate(spec: Spec, now: Date): string[] {
  const problems: string[] = [];
  // A session whose absolute end has passed is never created again (ADR 25): first, so it is the first thing said.
  const ended = notAfterProblem(spec, now);
  if (ended) problems.push(ended);
  try {
    parseUserSpec(spec.user);
  } catch (e) {
    if (!(e instanceof UserSpecError)) throw e;
    problems.push(`spec.user: ${e.message}`);
  }
  if (spec.ttl !== undefined) {
    try {
      parseDuration(spec.ttl);
    } catch (e) {
      problems.push(`spec.ttl: ${(e as Error).message}`);
    }
  }
  if (spec.container !== undefined && spec.container !== '' && !DNS_LABEL.test(spec.container)) {
    problems.push(`spec.container: "${spec.container}" is not a container name (lowercase letters, digits and '-'); leave it empty for the pod's default container`);
  }
  if (spec.command !== undefined) {
    if (spec.command.length === 0) problems.push('spec.command: give at least the program, e.g. ["id"], or leave it out for the user\'s login shell');
    if (spec.command[0] === '') problems.push('spec.command[0]: the program must not be empty');
    const tooLarge = commandTooLarge(spec.command, 'spec.command');
    if (tooLarge) problems.push(tooLarge);
  }
  if (spec.onBehalfOf !== undefined) problems.push(...onBehalfOfProblems(spec.onBehalfOf));
  if (spec.tty === false && !spec.command?.length) {
    problems.push('spec.command: a session with tty: false runs one command; set spec.command, or leave tty at its default (true) for an interactive session');
  }
  return problems;
}

/** Problems with a delegated subject: it must be named, and a trusted creator may not assert the cluster's own identities. */
function onBehalfOfProblems(o: { username: string; groups?: string[] }): string[] {
  if (!o.username) return ['spec.onBehalfOf.username: name the user the session is for, or leave spec.onBehalfOf out for a session of your own'];
  const problems: string[] = [];
  if (o.username.startsWith('system:')) {
    problems.push(`spec.onBehalfOf.username: "${o.username}" is a Kubernetes system identity; sessions on behalf of ServiceAccounts or components are not supported`);
  }
  // The creator asserts the subject's groups; system:masters above all must never be assertable.
  for (const g of o.groups ?? []) {
    if (g.startsWith('system:') && g !== 'system:authenticated') {
      problems.push(`spec.onBehalfOf.groups: "${g}" is a Kubernetes system group and cannot be asserted for someone; name the subject's own groups`);
    }
  }
  return problems;
}

/** Why a changed field may not change. */
function immutableProblem(f: (typeof IMMUTABLE_FIELDS)[number]): string {
  if (f === 'requester') return 'spec.requester is stamped by the admission webhook and cannot be changed';
  if (f === 'notAfter') return 'spec.notAfter is the session\'s absolute end, fixed at creation, and cannot be changed; revoke the session to end it sooner, or create a new session for longer';
  if (f === 'reason') return 'spec.reason is kept for the record and cannot be changed once the session exists; give further reasons with revoke, approve or deny (--reason), or create a new ExecSession';
  return `spec.${f} cannot be changed once the session exists; create a new ExecSession instead`;
}

/** Problems with an update: any change to the stamp, the target or the reason. */
export function validateUpdate(oldSpec: Spec, newSpec: Spec): string[] {
  const problems: string[] = [];
  for (const f of IMMUTABLE_FIELDS) {
    if (canonicalJson(oldSpec[f] ?? null) !== canonicalJson(newSpec[f] ?? null)) problems.push(immutableProblem(f));
  }
  return problems;
}
