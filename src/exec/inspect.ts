/**
 * What the helper saw of a target container, interpreted from its sections.
 */
import type { OciProcess } from './process-spec.js';
import { type Sections, text } from './sections.js';

/** A target container as seen from its node. */
export interface Inspection {
  /** The container's OCI process spec, when the runtime's state was found. */
  process?: OciProcess;
  /** Why the runtime state could not be used, when it could not. */
  runtimeError?: string;
  pid: number;
  passwd?: string;
  group?: string;
  /** True when the container has its own user namespace. */
  ownUserNamespace: boolean;
  cgroupVersion: 'v1' | 'v2';
  /** The container's first process: capability bounding set (hex), no_new_privs, seccomp mode. */
  capBnd: string;
  noNewPrivs: boolean;
  seccomp: number;
  uidMap: string;
  /** The environment of the container's first process. */
  environ: string[];
}

/** Thrown when the helper could not find the container's process. */
export class InspectError extends Error {}

function statusField(status: string, key: string): string {
  return new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
}

/** Interprets the output of the helper's `inspect`. */
export function interpretInspection(s: Sections): Inspection {
  const error = text(s, 'error');
  if (error) throw new InspectError(error);
  const pid = Number(text(s, 'pid'));
  if (!Number.isInteger(pid) || pid <= 0) throw new InspectError('the helper reported no process for the container');
  for (const f of ['passwd', 'group']) {
    if (text(s, `${f}.error`) === 'symlink') {
      throw new InspectError(`the container's /etc/${f} is a symbolic link; execsession reads only regular files there, so that a link cannot point outside the container`);
    }
  }
  let process: OciProcess | undefined;
  let runtimeError: string | undefined;
  const config = text(s, 'config');
  if (config && s.has('state')) {
    process = (JSON.parse(config) as { process?: OciProcess }).process;
    if (!process) runtimeError = 'the container\'s OCI config has no process';
  } else {
    runtimeError = config ? `runc does not know the container: ${text(s, 'state.error')?.trim() ?? 'no state'}` : 'no OCI bundle for the container under the configured runtime state directory';
  }
  const [targetNs, ownNs] = (text(s, 'userns') ?? '').split(' ');
  const status = text(s, 'status') ?? '';
  return {
    process,
    runtimeError,
    pid,
    passwd: text(s, 'passwd'),
    group: text(s, 'group'),
    ownUserNamespace: Boolean(targetNs && ownNs && targetNs !== ownNs),
    cgroupVersion: text(s, 'cgroupfs') === 'v2' ? 'v2' : 'v1',
    capBnd: statusField(status, 'CapBnd'),
    noNewPrivs: statusField(status, 'NoNewPrivs') === '1',
    seccomp: Number(statusField(status, 'Seccomp') || 0),
    uidMap: text(s, 'uid_map') ?? '',
    environ: (text(s, 'environ') ?? '').split('\0').filter((e) => e.includes('=')),
  };
}

/** The host uid that a uid inside the container maps to, from its uid_map. */
export function hostId(id: number, map: string): number | undefined {
  for (const line of map.trim().split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || outside === undefined || count === undefined) continue;
    if (id >= inside && id < inside + count) return outside + (id - inside);
  }
  return undefined;
}
