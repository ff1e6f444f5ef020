/**
 * `create`'s arguments to an ExecSession and to what the CLI does after creating
 * it. Pure, so every combination of flags is unit-tested.
 */
import { randomInt } from 'node:crypto';
import { kubeTime } from '../api/conditions.js';
import { parseDuration } from '../api/duration.js';
import { notAfterMs } from '../lifetime/lifetime.js';
import { API_VERSION, KIND, type ExecSession } from '../api/types.js';
import { UserSpecError, parseUserSpec } from '../api/user-spec.js';
import { UsageError } from './errors.js';

/** `create`'s flags and operands, after parsing. */
export interface CreateArgs {
  pod: string;
  namespace: string;
  user: string;
  container?: string;
  ttl?: string;
  reason?: string;
  /** spec.notAfter, an RFC 3339 time (resolveNotAfter turns --not-after into one). */
  notAfter?: string;
  name?: string;
  command: string[];
  stdin?: boolean;
  /** -t/--tty or --tty=false; undefined when neither was given. */
  tty?: boolean;
  attach?: boolean;
}

/**
 * What happens after creating:
 * - `create`: print the name and how to attach (optionally wait for Ready);
 * - `run`: a one-off command (tty false), whose recorded result becomes the CLI's output and exit code;
 * - `attach`: an interactive session, attached once Ready.
 */
export type CreateMode = { kind: 'create' } | { kind: 'run' } | { kind: 'attach'; tty: boolean };

/** Chooses the mode from the flags; `stdinIsTTY` decides tty when no flag does. */
export function createMode(args: Pick<CreateArgs, 'command' | 'stdin' | 'tty' | 'attach'>, stdinIsTTY: boolean): CreateMode {
  const interactive = args.attach === true || args.stdin === true || args.tty === true;
  if (interactive) {
    // --attach alone follows the terminal; -i without -t is a plain pipe, as with kubectl exec.
    const tty = args.tty ?? (args.attach === true ? stdinIsTTY : false);
    return { kind: 'attach', tty };
  }
  return args.command.length > 0 ? { kind: 'run' } : { kind: 'create' };
}

// DNS-1123 subdomain, what metadata.name and spec.podName accept.
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Refuses what the API server would refuse anyway, with the fix, before any request. */
function validate(args: CreateArgs): void {
  if (!NAME.test(args.pod) || args.pod.length > 253) {
    throw new UsageError(`invalid pod name ${JSON.stringify(args.pod)}: use the pod's name as "kubectl get pods" shows it`);
  }
  if (args.name !== undefined && (!NAME.test(args.name) || args.name.length > 253)) {
    throw new UsageError(`invalid --name ${JSON.stringify(args.name)}: use lower-case letters, digits, "-" and ".", e.g. "debug-web"`);
  }
  if (!args.user.trim()) throw new UsageError('-u/--user is empty: name the user as docker exec -u does, e.g. "-u postgres" or "-u 1000:1000"');
  try {
    parseUserSpec(args.user);
  } catch (e) {
    if (!(e instanceof UserSpecError)) throw e;
    throw new UsageError(`-u/--user: ${e.message}`);
  }
  if (args.ttl !== undefined) {
    try {
      parseDuration(args.ttl);
    } catch (e) {
      throw new UsageError(`--ttl: ${(e as Error).message}`);
    }
  }
}

/**
 * --not-after as spec.notAfter: an RFC 3339 time as given, or a duration from
 * `now` (e.g. "8h") as the time it comes to, in whole seconds.
 */
export function resolveNotAfter(value: string, now: Date): string {
  const at = notAfterMs({ notAfter: value });
  if (at !== undefined && Number.isFinite(at)) return value;
  try {
    return kubeTime(new Date(Math.ceil((now.getTime() + parseDuration(value)) / 1000) * 1000));
  } catch {
    throw new UsageError(`--not-after: ${JSON.stringify(value)} is neither an RFC 3339 time (e.g. "2026-12-01T18:00:00Z") nor a duration from now (e.g. "8h"); it is the session's absolute end`);
  }
}

// Kubernetes' own suffix alphabet (no vowels, no look-alikes), as generateName uses.
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters, like the suffix generateName adds. */
export function randomSuffix(): string {
  return Array.from({ length: 5 }, () => SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]).join('');
}

/**
 * The ExecSession to create: in the pod's namespace, named by --name or
 * `POD-xxxxx`. The name is made here, not with generateName, because the
 * admission webhook refuses generateName: the requester's signed stamp covers
 * the name, which must be known when it is stamped. A `run` session is `tty: false` with the
 * command; an `attach` session carries the command (if any) and the tty choice.
 */
export function buildSession(args: CreateArgs, mode: CreateMode, suffix: string = randomSuffix()): ExecSession {
  validate(args);
  // An attached session is interactive (spec.tty, like kubectl exec -i): the attach
  // itself asks for a terminal or not. Only a plain `create -- CMD` is a one-shot job.
  const tty = mode.kind !== 'run';
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: args.name ?? `${args.pod.slice(0, 247).replace(/[-.]+$/, '')}-${suffix}`,
      namespace: args.namespace,
    },
    spec: {
      podName: args.pod,
      ...(args.container ? { container: args.container } : {}),
      user: args.user,
      ...(args.command.length > 0 ? { command: args.command } : {}),
      tty,
      ...(args.ttl ? { ttl: args.ttl } : {}),
      ...(args.reason ? { reason: args.reason } : {}),
      ...(args.notAfter ? { notAfter: args.notAfter } : {}),
    },
  };
}
