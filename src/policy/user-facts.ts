// What is known about the container user a session asks for: from spec.user
// alone when the webhook evaluates, and from the resolved identity once the
// controller has read the container's /etc/passwd and /etc/group. Every fact
// is either known or explicitly unknown, so checks can tell "passes" from
// "cannot tell yet".
import { numericId, parseUserSpec } from '../api/user-spec.js';
import type { IdRange, ResolvedIds } from './types.js';

/** Known facts about the requested user; undefined fields are not known yet. */
export interface UserFacts {
  /** spec.user as written. */
  spec: string;
  /** The group part of the spec (name or gid), when it has one. */
  specGroup?: string;
  /** The user's name: the spec's when it names one, else the resolved passwd name. */
  name?: string;
  /** False while a numeric uid is unresolved: it may still have a passwd name. */
  nameKnown: boolean;
  uid?: number;
  /** Every gid the session would hold, primary first, when known. */
  gids?: number[];
}

/**
 * Facts from spec.user and, when given, the resolved identity (which wins).
 * Without resolution: a numeric uid is known, a name is known, and the groups
 * are known only for a numeric `:gid` (an explicit group means no
 * supplementary groups, as with `docker exec -u`).
 *
 * @throws {UserSpecError} when the spec is malformed
 */
export function userFacts(spec: string, resolved?: ResolvedIds): UserFacts {
  const { user, group } = parseUserSpec(spec);
  const base = { spec, ...(group !== undefined ? { specGroup: group } : {}) };
  if (resolved) {
    const gids = [...new Set([resolved.gid, ...resolved.groups])];
    return { ...base, ...(resolved.name ? { name: resolved.name } : {}), nameKnown: true, uid: resolved.uid, gids };
  }
  const uid = numericId(user);
  const gid = group === undefined ? undefined : numericId(group);
  return {
    ...base,
    ...(uid === undefined ? { name: user } : { uid }),
    nameKnown: uid === undefined,
    ...(gid === undefined ? {} : { gids: [gid] }),
  };
}

/** True: the user is root (uid 0 or named root); false: it is not; undefined: not known yet. */
export function isRootUser(facts: UserFacts): boolean | undefined {
  if (facts.name === 'root' || facts.uid === 0) return true;
  return facts.uid === undefined ? undefined : false;
}

/** True: gid 0 (or the group named root) is among the groups; false: it is not; undefined: not known yet. */
export function hasRootGroup(facts: UserFacts): boolean | undefined {
  if (facts.specGroup === 'root' || facts.gids?.includes(0)) return true;
  return facts.gids === undefined ? undefined : false;
}

/** True when `id` lies in one of the inclusive ranges. */
export function inRanges(id: number, ranges: readonly IdRange[]): boolean {
  return ranges.some((r) => id >= r.min && id <= r.max);
}

/** `0-99, 1000`, for messages. */
export function formatRanges(ranges: readonly IdRange[]): string {
  return ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(', ');
}

/** `user "alice"` or `uid 1000`, for messages. */
export function describeUser(facts: UserFacts): string {
  if (facts.name !== undefined) return `user ${JSON.stringify(facts.name)}${facts.uid !== undefined ? ` (uid ${facts.uid})` : ''}`;
  return `uid ${facts.uid ?? '?'}`;
}
