/**
 * What an attach may run and when: the session must be live, and the process
 * is the session's command, else the requested one, else the user's shell.
 * Pure checks on the session as read, shared by the attach bridge's prepare
 * and its re-reads.
 */
import { commandTooLarge } from '../api/command-limits.js';
import { quoted } from '../api/quote.js';
import { sessionSubject } from '../api/subject.js';
import { isTerminalPhase, type ContainerUser, type ExecSession, type Person } from '../api/types.js';
import { hasExpired } from '../lifetime/lifetime.js';
import { ApiError } from './types.js';

/** The query parameters an attach takes: pods/exec's, so that client-go's exec clients work unchanged (docs/api.md). */
export const ATTACH_PARAMETERS = ['command', 'tty', 'stdin', 'stdout', 'stderr', 'container'] as const;

/** The one value of a single-valued parameter; twice is refused rather than one of them picked. */
function single(q: URLSearchParams, name: string): string | undefined {
  const all = q.getAll(name);
  if (all.length > 1) throw new ApiError(400, 'BadRequest', `query parameter ${name} was given ${all.length} times; give it once`);
  return all[0];
}

function flag(q: URLSearchParams, name: string): boolean | undefined {
  const v = single(q, name);
  if (v === undefined) return undefined;
  if (['true', '1', ''].includes(v)) return true;
  if (['false', '0'].includes(v)) return false;
  throw new ApiError(400, 'BadRequest', `query parameter ${name} must be true or false, got ${quoted(v)}`);
}

/**
 * Refuses what an attach does not take, naming the parameter: an unknown one, a
 * repeated single-valued one, a malformed flag, another container than the
 * session's. stdout and stderr are checked and then have no effect: the attach
 * streams what the process writes (with a TTY, all of it on stdout).
 */
function checkQuery(s: ExecSession, key: string, q: URLSearchParams): void {
  for (const name of new Set(q.keys())) {
    if (!(ATTACH_PARAMETERS as readonly string[]).includes(name)) {
      throw new ApiError(400, 'BadRequest', `unknown query parameter ${quoted(name)}; attach takes ${ATTACH_PARAMETERS.join(', ')}`);
    }
  }
  flag(q, 'stdout');
  flag(q, 'stderr');
  const container = single(q, 'container');
  if (container !== undefined && container !== s.status?.container) {
    throw new ApiError(400, 'BadRequest', `query parameter container is ${quoted(container)}, but execsession ${key} is in container ${quoted(s.status?.container ?? '')}; leave it out`);
  }
}

function sameArgv(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Why `caller` may not attach to `s`: only the session's subject may (its page neither). */
export function notSubject(s: ExecSession, caller: Person): ApiError | undefined {
  const { namespace, name } = s.metadata;
  const subject = sessionSubject(s.spec).username;
  if (subject && subject === caller.username) return undefined;
  return new ApiError(403, 'NotSubject', `only ${subject || 'the session\'s subject'} may attach to execsession ${namespace}/${name}; ${caller.username} can create a session of their own: kubectl execsession create ${s.spec.podName} -u ${s.spec.user} -n ${namespace}`);
}

/** Why a session cannot be attached to now, as the API error to answer with. */
export function notAttachable(s: ExecSession, now: Date): ApiError | undefined {
  const where = `session ${s.metadata.namespace}/${s.metadata.name}`;
  const st = s.status ?? {};
  const revocation = (st as { revocation?: { username?: string; at?: string; reason?: string } }).revocation;
  if (revocation?.at) return new ApiError(410, 'Revoked', `${where} was revoked by ${revocation.username ?? 'an administrator'} at ${revocation.at}${revocation.reason ? ` (${revocation.reason})` : ''}; create a new session`);
  if (st.phase === 'Expired' || hasExpired(st, now)) {
    return new ApiError(410, 'Expired', `${where} expired at ${st.expiresAt ?? st.endedAt ?? 'its end'}; create a new session to continue`);
  }
  if (isTerminalPhase(st.phase)) return new ApiError(410, 'Ended', `${where} has ended (${st.phase}${st.message ? `: ${st.message}` : ''}); create a new session`);
  if (st.phase === 'Running') {
    return new ApiError(409, 'NotInteractive', `${where} runs its command once as a job (tty: false with a command); its output goes to status.result. Create a session without a command to attach`);
  }
  if (st.phase !== 'Ready') {
    const name = s.metadata.name ?? '';
    return new ApiError(409, 'NotReady', `${where} is not ready (phase ${st.phase ?? 'Pending'}${st.message ? `: ${st.message}` : ''}); wait for it with: kubectl execsession wait ${name} -n ${s.metadata.namespace}`);
  }
  return undefined;
}

/** The query's command, refused naming it when no process could be started with it. */
function requestedCommand(query: URLSearchParams): string[] {
  const requested = query.getAll('command');
  const tooLarge = commandTooLarge(requested, 'command');
  if (tooLarge) throw new ApiError(400, 'CommandTooLarge', tooLarge);
  // No process can be started with these: refused here, naming them, rather than failing in the runtime.
  if (requested.length > 0 && requested[0] === '') throw new ApiError(400, 'BadRequest', 'query parameter command: its first value, the program, is empty');
  const nul = requested.findIndex((a) => a.includes('\0'));
  if (nul >= 0) throw new ApiError(400, 'BadRequest', `query parameter command: value ${nul + 1} contains a NUL byte, which no argument can carry`);
  return requested;
}

/** What an attach runs: the session's command, else the requested one, else the user's shell. */
export function processOf(s: ExecSession, key: string, query: URLSearchParams): { command: string[]; tty: boolean; stdin: boolean; user: ContainerUser } {
  checkQuery(s, key, query);
  const requested = requestedCommand(query);
  const fixed = s.spec.command ?? [];
  if (fixed.length > 0 && requested.length > 0 && !sameArgv(fixed, requested)) {
    throw new ApiError(400, 'CommandFixed', `execsession ${key} runs ${JSON.stringify(fixed)} only (spec.command); attach without a command`);
  }
  const user = userOf(s);
  const command = fixed.length > 0 ? fixed : requested.length > 0 ? requested : [user.shell || '/bin/sh'];
  const stdin = flag(query, 'stdin') ?? true;
  const askedTty = flag(query, 'tty');
  // As kubectl: no terminal without stdin unless asked for. A shell on a terminal nobody can
  // type into would wait until the idle timeout, so that is refused rather than started.
  if (askedTty === true && !stdin && fixed.length === 0 && requested.length === 0) {
    throw new ApiError(400, 'BadRequest', `query parameter tty: a terminal without stdin would leave ${command[0] ?? 'the shell'} waiting for input that cannot come; attach with stdin, without tty, or with a command`);
  }
  return { command, tty: askedTty ?? (stdin ? s.spec.tty ?? true : false), stdin, user };
}

/** The resolved user as status records it, in the shape the backends take. */
function userOf(s: ExecSession): ContainerUser {
  const u = s.status?.user;
  if (!u) throw new ApiError(500, 'InternalError', 'the session is Ready but its resolved user is missing from status');
  return { uid: u.uid, gid: u.gid, groups: u.groups ?? [u.gid], name: u.name, home: u.home ?? '/', shell: u.shell, root: u.root ?? u.uid === 0, rootGroup: u.rootGroup ?? false };
}

