/**
 * Waiting for a session: polls it every 500 ms (a watch would need list/watch
 * RBAC that a plain user may lack; a poll needs only get) and shows progress.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../api/duration.js';
import { isTerminalPhase, type ExecSession, type Phase } from '../api/types.js';
import type { Api } from './client.js';
import { ApiError, CliError } from './errors.js';
import type { Progress } from './progress.js';
import { getSession } from './sessions.js';

/** `ready`: Ready (or Running, a command's equivalent) or ended; `end`: ended. */
export type WaitFor = 'ready' | 'end';

/** Phases in which `ready` is reached. */
const READY: readonly Phase[] = ['Ready', 'Running'];

/** True when waiting is over: the wanted phase, or a phase the session never leaves. */
export function reached(session: ExecSession, waitFor: WaitFor): boolean {
  const phase = session.status?.phase;
  if (isTerminalPhase(phase)) return true;
  return waitFor === 'ready' && phase !== undefined && READY.includes(phase);
}

/**
 * How long to wait, in ms from when waiting began: a fixed time, or one worked
 * out from the session as last read (e.g. from its expiry, once the operator decided it).
 */
export type WaitLimit = number | WaitLimitOf;

/** A wait limit worked out from the session as last read. */
export type WaitLimitOf = (last: ExecSession | undefined, waitStartedMs: number) => number;

/** How to wait. */
export interface WaitOptions {
  timeoutMs: WaitLimit;
  progress?: Progress;
  /** Sees each read of the session (for what to say after Ctrl-C). */
  onRead?: (session: ExecSession | undefined) => void;
  intervalMs?: number;
  /** Seams for tests. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

// Transient failures (a restarting API server) are retried this many times in a row.
const MAX_ERRORS = 5;

/** Polls until `reached`; throws a CliError on timeout, deletion, or repeated failures. */
export async function waitForSession(api: Api, namespace: string, name: string, waitFor: WaitFor, opts: WaitOptions): Promise<ExecSession> {
  const clock = opts.clock ?? Date.now;
  const pause = opts.sleep ?? sleep;
  const start = clock();
  let last: ExecSession | undefined;
  const poll = retrying(() => getSession(api, namespace, name));
  try {
    for (;;) {
      last = (await poll()) ?? last;
      opts.onRead?.(last);
      if (last && reached(last, waitFor)) return last;
      opts.progress?.update(last, clock() - start);
      const limit = typeof opts.timeoutMs === 'number' ? opts.timeoutMs : opts.timeoutMs(last, start);
      if (clock() - start >= limit) throw timeoutError(last, namespace, name, waitFor, limit);
      await pause(opts.intervalMs ?? 500);
    }
  } finally {
    opts.progress?.done();
  }
}

/** Wraps a read so transient failures give undefined, until MAX_ERRORS of them in a row. */
function retrying<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let errors = 0;
  return async () => {
    try {
      const v = await read();
      errors = 0;
      return v;
    } catch (e) {
      if (!isTransient(e) || ++errors >= MAX_ERRORS) throw e;
      return undefined;
    }
  };
}

/** Server-side trouble or no connection: worth another try. */
function isTransient(e: unknown): boolean {
  if (e instanceof ApiError) return e.code >= 500 || e.code === 429;
  return e instanceof CliError && e.message.startsWith('cannot reach');
}

function timeoutError(last: ExecSession | undefined, namespace: string, name: string, waitFor: WaitFor, timeoutMs: number): CliError {
  const now = last?.status?.phase ?? 'Pending';
  const message = last?.status?.message ? `: ${last.status.message}` : '';
  const wanted = waitFor === 'ready' ? 'be Ready' : 'end';
  return new CliError(`timed out after ${formatDuration(timeoutMs)} waiting for execsession ${namespace}/${name} to ${wanted} (now ${now}${message}); ` +
    `wait longer with "kubectl execsession wait ${name} -n ${namespace} --timeout 10m", or look at "kubectl describe execsession ${name} -n ${namespace}"`);
}
