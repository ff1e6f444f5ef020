/**
 * Parsing of `docker exec -u` style user specs: `<name|uid>[:<group|gid>]`, the
 * grammar of spec.user, which admission, the CLI, policy and the resolution of
 * the user inside the container (src/exec/resolve-user.ts) all read.
 *
 * Docker itself (moby/sys user.GetExecUser) splits on the first ":" and treats
 * a part as an id when Go's strconv.Atoi accepts it. We are stricter on
 * purpose: a spec decides who a person becomes inside a container, so anything
 * ambiguous (signs, hex, stray colons, invisible characters) is refused with
 * a message instead of being looked up as an odd name. Names follow POSIX's
 * portable user names, as useradd takes them: letters, digits, '.', '_' and
 * '-' (not first), an optional '$' at the end (Samba machine accounts), at
 * most 32 characters, never "." or "..". So `alice;id`, `$(id)` or
 * `../etc/passwd` are refused as malformed before anything looks them up.
 */
import { quoted } from './quote.js';

/** Format shown in every error, so the user sees what is expected. */
export const USER_SPEC_FORMAT = '<name|uid>[:<group|gid>]';

/** Longest spec accepted; real names are ≤ 32 chars, this only stops garbage. */
const MAX_SPEC_LENGTH = 256;

/** Longest user or group name accepted (useradd's limit, and utmp's). */
export const MAX_NAME_LENGTH = 32;

/** A portable user or group name: POSIX's portable filename characters, '-' not first, an optional trailing '$'. */
export const NAME_PATTERN = /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/;

/** Largest id docker accepts (moby/sys maxID: int32 for 32-bit compatibility). */
export const MAX_ID = 2 ** 31 - 1;

/** A syntactically valid user spec, split into its parts. */
export interface UserSpec {
  /** User name or decimal uid. */
  user: string;
  /** Group name or decimal gid, when the spec has a ":group" part. */
  group?: string;
}

/** Thrown when a user spec is not of the form `<name|uid>[:<group|gid>]`. */
export class UserSpecError extends Error {
  override readonly name = 'UserSpecError';
  /** The rejected spec, verbatim. */
  readonly spec: string;

  constructor(spec: string, problem: string) {
    super(`invalid user spec ${quoted(spec)}: ${problem}; expected ${USER_SPEC_FORMAT}`);
    this.spec = spec;
  }
}

/**
 * Returns the id when `part` is a decimal id, undefined when it is a name.
 * Only meaningful for parts that passed {@link parseUserSpec}.
 */
export function numericId(part: string): number | undefined {
  return /^\d+$/.test(part) ? Number(part) : undefined;
}

/** Why `part` is not a portable name, or undefined when it is one. */
function nameProblem(part: string, what: 'user' | 'group'): string | undefined {
  if (part === '.' || part === '..') return `the ${what} name ${quoted(part)} is a path, not a name`;
  if (part.length > MAX_NAME_LENGTH) return `the ${what} name is ${part.length} characters long, the limit is ${MAX_NAME_LENGTH}`;
  if (NAME_PATTERN.test(part)) return undefined;
  if (part.startsWith('-')) return `the ${what} name ${quoted(part)} starts with '-'`;
  const chars = [...part];
  const bad = chars.find((c, i) => !/[A-Za-z0-9._-]/.test(c) && !(c === '$' && i === chars.length - 1)) ?? chars[0] ?? '';
  return `the ${what} name ${quoted(part)} contains ${quoted(bad)}: names are letters, digits, '.', '_' and '-', with an optional '$' at the end`;
}

/**
 * Validates one side of the spec. A part starting with a digit or a sign is
 * taken as meant to be a number, and must then be a plain decimal in range;
 * anything else must be a portable name.
 */
function checkPart(spec: string, part: string, what: 'user' | 'group'): void {
  const idName = what === 'user' ? 'uid' : 'gid';
  if (part === '') throw new UserSpecError(spec, `the ${what} part is empty`);
  if (!/^[+-]?\d/.test(part)) {
    const problem = nameProblem(part, what);
    if (problem) throw new UserSpecError(spec, problem);
    return;
  }
  if (part.startsWith('-')) throw new UserSpecError(spec, `${idName} ${part} is negative`);
  if (!/^\d+$/.test(part)) {
    throw new UserSpecError(spec, `${idName} ${JSON.stringify(part)} is not a plain decimal number`);
  }
  if (Number(part) > MAX_ID) {
    throw new UserSpecError(spec, `${idName} ${part} is above the maximum ${MAX_ID}`);
  }
}

/**
 * Parses and validates a `docker exec -u` user spec.
 *
 * @param spec `<name|uid>[:<group|gid>]`, e.g. `alice`, `1000`, `alice:ops`, `1000:2000`.
 * @returns the user part and, when present, the group part (both verbatim).
 * @throws {UserSpecError} when the spec is empty, longer than 256 characters,
 *   contains whitespace or control characters, has more than one ":", has an
 *   empty part, has a negative, non-decimal or above-2^31-1 number, or a name
 *   that is not a portable name of at most 32 characters.
 */
export function parseUserSpec(spec: string): UserSpec {
  if (spec === '') throw new UserSpecError(spec, 'it is empty');
  if (spec.length > MAX_SPEC_LENGTH) {
    throw new UserSpecError(spec, `it is ${spec.length} characters long, the limit is ${MAX_SPEC_LENGTH}`);
  }
  if (/\s/u.test(spec)) throw new UserSpecError(spec, 'it contains whitespace');
  if (/\p{Cc}/u.test(spec)) throw new UserSpecError(spec, 'it contains a control character');
  const parts = spec.split(':');
  if (parts.length > 2) throw new UserSpecError(spec, 'it has more than one ":"');
  const [user = '', group] = parts;
  checkPart(spec, user, 'user');
  if (group === undefined) return { user };
  checkPart(spec, group, 'group');
  return { user, group };
}
