/**
 * Builds the OCI process spec for a session from the container's own: same
 * capabilities, no_new_privs, AppArmor profile, SELinux label, rlimits and
 * working directory; exactly the session user's uid, gid and groups; the
 * session's command and terminal. Seccomp and cgroups come from the container's
 * state, which runc applies to every exec.
 */
import type { ContainerUser } from '../api/types.js';

/** The parts of an OCI runtime spec's `process` that we read or write. */
export interface OciProcess {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Record<string, string[] | undefined>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  rlimits?: unknown[];
  oomScoreAdj?: number;
  [key: string]: unknown;
}

/** What the session asks for. */
export interface SessionProcess {
  user: ContainerUser;
  command: string[];
  tty: boolean;
}

/** Environment variables that describe the user; reset so nothing of the container's user leaks. */
const USER_ENV = ['HOME', 'USER', 'LOGNAME', 'SHELL'];

/** The container's environment with the session user's HOME, USER, LOGNAME, SHELL (and TERM with a terminal). */
export function sessionEnv(containerEnv: string[], user: ContainerUser, tty: boolean): string[] {
  const env = containerEnv.filter((e) => !USER_ENV.includes(e.split('=')[0] ?? '') && !(tty && e.startsWith('TERM=')));
  env.push(`HOME=${user.home}`);
  if (user.name) env.push(`USER=${user.name}`, `LOGNAME=${user.name}`);
  if (user.shell) env.push(`SHELL=${user.shell}`);
  if (tty) env.push('TERM=xterm');
  return env;
}

/**
 * The process spec for the session. The container's capability sets are kept as
 * they are: the kernel clears the effective set for a non-root uid, and the
 * bounding set never grows beyond the container's.
 */
export function sessionProcess(container: OciProcess, s: SessionProcess): OciProcess {
  const env = sessionEnv(container.env ?? [], s.user, s.tty);
  return {
    ...container,
    terminal: s.tty,
    user: { uid: s.user.uid, gid: s.user.gid, additionalGids: [...s.user.groups] },
    args: [...s.command],
    env,
  };
}
