/**
 * Which backend a session uses, and how a process is started through it. Pure:
 * the reconciler and the attach path both build their processes here.
 */
import type { JobStart } from './helper-client.js';
import type { Inspection } from './inspect.js';
import { nsenterArgs } from './nsenter.js';
import { sessionProcess } from './process-spec.js';
import type { ContainerUser } from '../api/types.js';

export type BackendName = 'runtime' | 'nsenter';

/**
 * The backend for a target: `runtime` whenever the node's runtime state was found
 * (it keeps every container setting), unless the operator is told otherwise.
 */
export function chooseBackend(preference: 'auto' | BackendName, inspection: Inspection): { backend: BackendName } | { error: string } {
  if (preference === 'nsenter') return { backend: 'nsenter' };
  if (inspection.process) return { backend: 'runtime' };
  if (preference === 'runtime') return { error: inspection.runtimeError ?? 'no runtime state for the container' };
  return { backend: 'nsenter' };
}

/** What to run in the session, and as whom. */
export interface SessionCommand {
  backend: BackendName;
  inspection: Inspection;
  user: ContainerUser;
  command: string[];
  tty: boolean;
  containerID: string;
  sessionUid: string;
}

/** The job start for a session process through its backend. */
export function jobFor(c: SessionCommand, name: string, limit: number): JobStart {
  if (c.backend === 'nsenter') {
    return { name, limit, backend: 'nsenter', args: nsenterArgs({ inspection: c.inspection, user: c.user, command: c.command, tty: c.tty }) };
  }
  if (!c.inspection.process) throw new Error('the runtime backend needs the container\'s OCI process spec');
  const spec = sessionProcess(c.inspection.process, { user: c.user, command: c.command, tty: c.tty });
  return { name, limit, backend: 'runtime', spec, containerID: c.containerID, sessionUid: c.sessionUid };
}
