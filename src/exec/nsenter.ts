/**
 * The nsenter backend: for nodes whose runtime state the operator cannot use,
 * the helper's execsession-enter joins the session's cgroups, enters the target's
 * namespaces (its user namespace too when it has its own), sets exactly the
 * user's uid, gid and groups, caps capabilities at the container's bounding set
 * and sets no_new_privs. It cannot carry over the seccomp filter, the LSM label,
 * rlimits or oom_score_adj (docs/exec-backends.md).
 */
import type { Inspection } from './inspect.js';
import { sessionEnv } from './process-spec.js';
import type { ContainerUser } from '../api/types.js';

/** What the nsenter backend needs to start a process in the session. */
export interface NsenterInput {
  inspection: Inspection;
  user: ContainerUser;
  command: string[];
  tty: boolean;
}

/** The arguments of execsession-enter for one session process (the helper adds the session's cgroups). */
export function nsenterArgs(i: NsenterInput): string[] {
  const { inspection, user } = i;
  if (!/^[0-9a-f]{1,16}$/.test(inspection.capBnd)) throw new Error(`the container's capability bounding set "${inspection.capBnd}" is not readable`);
  const args = ['--pid', String(inspection.pid)];
  if (inspection.ownUserNamespace) args.push('--userns');
  args.push('--uid', String(user.uid), '--gid', String(user.gid));
  if (user.groups.length > 0) args.push('--groups', user.groups.join(','));
  args.push('--capbnd', inspection.capBnd);
  const env = sessionEnv(inspection.environ, user, i.tty);
  if (!env.some((e) => e.startsWith('PATH='))) env.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  for (const e of env) args.push('--env', e);
  return [...args, '--', ...i.command];
}
