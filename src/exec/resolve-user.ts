/**
 * Resolves a `docker exec -u` user spec against a container's /etc/passwd and
 * /etc/group, giving the same uid, gid and additionalGids docker would.
 *
 * Rules follow github.com/moby/sys user/user.go (GetExecUser, ParsePasswdFilter,
 * ParseGroupFilter), moby's daemon getUser (additionalGids = [gid, ...sgids])
 * and runc's setupUser (defaults uid 0, gid 0, HOME "/"). Quirks are kept on
 * purpose so that what we run matches what `docker exec -u` would run.
 */
import type { ContainerUser } from '../api/types.js';
import { MAX_ID, numericId, parseUserSpec } from '../api/user-spec.js';

/** Contents of the container's user database files; undefined = file absent. */
export interface UserDbFiles {
  passwd: string | undefined;
  group: string | undefined;
}

/** Why a spec could not be resolved. */
export type ResolveUserReason = 'UserNotFound' | 'GroupNotFound' | 'IdOutOfRange';

/** Thrown when a valid spec names a user or group the container does not have. */
export class ResolveUserError extends Error {
  override readonly name = 'ResolveUserError';
  readonly reason: ResolveUserReason;
  /** The user, group or id the message is about. */
  readonly subject: string;

  constructor(reason: ResolveUserReason, subject: string, message: string) {
    super(message);
    this.reason = reason;
    this.subject = subject;
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Go's `strconv.Atoi` with the error ignored, as moby/sys parses id fields:
 * anything that is not an optionally signed decimal becomes 0.
 */
function atoi(field: string | undefined): number {
  if (field === undefined || !/^[+-]?\d+$/.test(field)) return 0;
  return Number(field) || 0; // `|| 0` turns "-0" into 0
}

/** Non-blank, trimmed lines, as bufio.Scanner + bytes.TrimSpace give them. */
function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

/**
 * Parses passwd like moby/sys ParsePasswdFilter. It does NOT skip "#" lines
 * (only the group parser does), and short or non-numeric fields become "" / 0.
 */
function parsePasswd(text: string | undefined): PasswdEntry[] {
  if (text === undefined) return [];
  return lines(text).map((line) => {
    const [name = '', , uid, gid, , home = '', shell = ''] = line.split(':');
    return { name, uid: atoi(uid), gid: atoi(gid), home, shell };
  });
}

/** Parses group like moby/sys ParseGroupFilter: skips "#" lines, splits members on ",". */
function parseGroup(text: string | undefined): GroupEntry[] {
  if (text === undefined) return [];
  return lines(text)
    .filter((line) => !line.startsWith('#'))
    .map((line) => {
      const [name = '', , gid, members = ''] = line.split(':');
      return { name, gid: atoi(gid), members: members === '' ? [] : members.split(',') };
    });
}

/** Explains a lookup failure, including that the file itself is missing. */
function notFound(reason: ResolveUserReason, what: 'user' | 'group', subject: string, file: string | undefined): ResolveUserError {
  const path = what === 'user' ? '/etc/passwd' : '/etc/group';
  const where = file === undefined
    ? `the container has no ${path} (only numeric ${what === 'user' ? 'uids' : 'gids'} work without it)`
    : `it is not in the container's ${path}`;
  return new ResolveUserError(reason, subject, `${what} ${JSON.stringify(subject)} not found: ${where}`);
}

/**
 * Explicit ":group": first entry with that gid (numeric) or name wins; a
 * numeric gid absent from /etc/group is used as is, an unknown name is an error.
 */
function explicitGid(group: string, groups: GroupEntry[], file: string | undefined): number {
  const id = numericId(group);
  if (id !== undefined) return id;
  const entry = groups.find((g) => g.name === group);
  if (entry === undefined) throw notFound('GroupNotFound', 'group', group, file);
  return entry.gid;
}

/**
 * Ids read from the files are not range-checked by docker (it then casts to
 * uint32); we refuse instead of silently wrapping into another identity.
 */
function checkRange(ids: number[]): void {
  const bad = ids.find((id) => !(id >= 0 && id <= MAX_ID));
  if (bad !== undefined) {
    throw new ResolveUserError('IdOutOfRange', String(bad),
      `id ${bad} from the container's /etc/passwd or /etc/group is outside 0-${MAX_ID}`);
  }
}

/**
 * Resolves a user spec the way `docker exec -u <spec>` does.
 *
 * - A numeric user is matched by uid only, a name by name only; the first
 *   matching passwd line wins. A numeric uid with no entry (or no passwd file)
 *   is used as is with gid 0 and no supplementary groups.
 * - Supplementary groups are looked up only when no ":group" is given and a
 *   passwd entry matched (by name or uid): every /etc/group line listing that
 *   entry's name as a member.
 * - With ":group", the gid is that group's and there are no supplementary groups.
 * - `groups` is docker's additionalGids: the primary gid plus the supplementary ones.
 * - `home` comes from the first passwd entry with the final uid (as runc
 *   sets HOME), else "/".
 *
 * @param spec `<name|uid>[:<group|gid>]`
 * @param files contents of the container's /etc/passwd and /etc/group (undefined = absent)
 * @throws {UserSpecError} when the spec is malformed
 * @throws {ResolveUserError} when a named user or group is not found, or a file holds an out-of-range id
 */
export function resolveUser(spec: string, files: UserDbFiles): ContainerUser {
  const { user, group } = parseUserSpec(spec);
  const uidArg = numericId(user);
  const passwd = parsePasswd(files.passwd);
  const entry = passwd.find((u) => (uidArg === undefined ? u.name === user : u.uid === uidArg));
  if (entry === undefined && uidArg === undefined) throw notFound('UserNotFound', 'user', user, files.passwd);

  const uid = entry?.uid ?? uidArg ?? 0;
  const { gid, sgids } = resolveGroups(group, entry, files.group);
  checkRange([uid, gid, ...sgids]);
  const groups = [...new Set([gid, ...sgids])].sort((a, b) => a - b);
  return {
    uid,
    gid,
    groups,
    ...(entry?.name ? { name: entry.name } : {}),
    home: passwd.find((u) => u.uid === uid)?.home || '/',
    ...(entry?.shell ? { shell: entry.shell } : {}),
    root: uid === 0,
    rootGroup: groups.includes(0),
  };
}

/**
 * GetExecUser's group step: an explicit group replaces the primary gid and
 * suppresses supplementary groups; otherwise a matched, named passwd entry
 * gets every group that lists its name as a member.
 */
function resolveGroups(group: string | undefined, entry: PasswdEntry | undefined, file: string | undefined): { gid: number; sgids: number[] } {
  const groupDb = parseGroup(file);
  if (group !== undefined) return { gid: explicitGid(group, groupDb, file), sgids: [] };
  const gid = entry?.gid ?? 0;
  if (entry === undefined || entry.name === '') return { gid, sgids: [] };
  return { gid, sgids: groupDb.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) };
}

/** The user's login shell from passwd, or "/bin/sh" when it has none. */
export function loginShell(user: ContainerUser): string {
  return user.shell || '/bin/sh';
}
