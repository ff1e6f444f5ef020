/**
 * `create`: makes an ExecSession, then, by mode (session-object.ts), prints how
 * to attach, prints a one-off command's result and exits with its code, or
 * attaches once the session is Ready.
 */
import { stringify } from 'yaml';
import type { ExecSession } from '../api/types.js';
import { expiresAtMs } from '../lifetime/lifetime.js';
import { attach } from './attach.js';
import type { Api, GlobalOptions } from './client.js';
import { durationFlag, print, printErr, type CliContext } from './context.js';
import { ApiError, CliError, UsageError } from './errors.js';
import { relativeTime } from './format.js';
import { endedMessage, runOutcome } from './outcome.js';
import { interruptedMessage, interruptible } from './interrupt.js';
import { Progress } from './progress.js';
import { buildSession, createMode, resolveNotAfter, type CreateArgs, type CreateMode } from './session-object.js';
import { createSession } from './sessions.js';
import { serveWeb } from './cmd-web.js';
import { waitForSession, type WaitLimitOf } from './wait.js';

/** `create`'s own flags. */
export interface CreateFlags {
  container?: string;
  user: string;
  ttl?: string;
  reason?: string;
  /** --not-after: an RFC 3339 time or a duration from now; sent as spec.notAfter. */
  notAfter?: string;
  name?: string;
  stdin?: boolean;
  tty?: boolean;
  attach?: boolean;
  wait?: boolean;
  timeout?: string;
  /** none (default), server (admission decides, nothing is stored) or client (print the object, send nothing). */
  dryRun?: string;
  /** With --dry-run: yaml or json prints the object. */
  output?: string;
  /** --web: once Ready, serve its terminal to a browser (cmd-web.ts); --no-open sets open false. */
  web?: boolean;
  open?: boolean;
}

/** How long to wait for Ready by default. */
export const DEFAULT_READY_TIMEOUT = '5m';

/** Runs `create`; resolves with the exit code. */
export async function runCreate(ctx: CliContext, globals: GlobalOptions, pod: string, command: string[], flags: CreateFlags): Promise<number> {
  const api = await ctx.connect(globals);
  const notAfter = flags.notAfter === undefined ? undefined : resolveNotAfter(flags.notAfter, ctx.now());
  const args: CreateArgs = { ...flags, pod, command, namespace: api.namespace, ...(notAfter ? { notAfter } : {}) };
  const mode = createMode(args, ctx.io.stdin.isTTY === true);
  checkWeb(flags, mode);
  if (flags.dryRun && flags.dryRun !== 'none') return dryRun(ctx, api, args, mode, flags);
  // A one-off command's stderr is the command's: admission warnings join it only on a terminal (or with -v).
  const created = await createNamed(api, args, mode, mode.kind === 'run' && !ctx.io.stderr.isTTY);
  const name = created.metadata.name ?? '';
  api.debug(`created execsession ${api.namespace}/${name} (${mode.kind})`);
  if (mode.kind === 'run') return finishRun(ctx, api, name, flags);
  if (mode.kind === 'attach') {
    if (ctx.io.stderr.isTTY) printErr(ctx, `execsession ${api.namespace}/${name} created`);
    const ready = await waitReady(ctx, api, name, flags.timeout, true);
    if (ctx.io.stderr.isTTY && readyUntil(ready)) printErr(ctx, readyUntil(ready));
    return attach(api, { namespace: api.namespace, name, command: [], tty: mode.tty, stdin: true }, ctx.io);
  }
  print(ctx, `execsession.execsession.dev/${name} created`);
  const ready = flags.wait || flags.web ? await waitReady(ctx, api, name, flags.timeout, false) : undefined;
  if (flags.web) return serveWeb(ctx, api, name, flags);
  // The operator decides the expiry when the session starts (spec.ttl, else the policy's ttl.default).
  if (ready && readyUntil(ready)) print(ctx, readyUntil(ready));
  print(ctx, `attach with: kubectl execsession attach ${name} -n ${api.namespace}`);
  return 0;
}

/** --web serves the login shell to a browser: no command, no attach here, nothing to serve in a dry run. */
function checkWeb(flags: CreateFlags, mode: CreateMode): void {
  if (flags.web && (mode.kind !== 'create' || (flags.dryRun && flags.dryRun !== 'none'))) {
    throw new UsageError('--web opens the session\'s login shell in a browser: give it no command, -i, -t, --attach or --dry-run');
  }
}

/**
 * --dry-run=client prints the object the CLI would send (for a GitOps repository);
 * --dry-run=server sends it with dryRun=All, so the webhook decides (its warning names
 * the policy that allows it, a refusal the rule that denies it) and nothing is stored.
 */
async function dryRun(ctx: CliContext, api: Api, args: CreateArgs, mode: CreateMode, flags: CreateFlags): Promise<number> {
  const built = buildSession(args, mode);
  const session = flags.dryRun === 'client' ? built : await createSession(api, built, false, true);
  if (flags.output === 'yaml' || flags.output === 'json') {
    const object = flags.dryRun === 'client' ? session : { apiVersion: session.apiVersion, kind: session.kind, metadata: { name: session.metadata.name, namespace: session.metadata.namespace }, spec: session.spec };
    print(ctx, flags.output === 'json' ? JSON.stringify(object, null, 2) : stringify(object).trimEnd());
    return 0;
  }
  print(ctx, `execsession.execsession.dev/${session.metadata.name ?? session.metadata.generateName ?? ''} created (${flags.dryRun} dry run)`);
  return 0;
}

/** `ready until 2026-11-22T10:15:00Z (in 15 minutes)`: the expiry the operator decided, or '' before it did. */
function readyUntil(s: ExecSession): string {
  const expiresAt = s.status?.expiresAt;
  return expiresAt ? `ready until ${expiresAt} (${relativeTime(expiresAt, new Date())})` : '';
}

/** Creates the session; a generated name that is taken already is drawn again, twice at most. */
async function createNamed(api: Api, args: CreateArgs, mode: CreateMode, quietWarnings: boolean): Promise<ExecSession> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createSession(api, buildSession(args, mode), quietWarnings);
    } catch (e) {
      if (args.name || attempt >= 3 || !(e instanceof ApiError && e.code === 409)) throw e;
    }
  }
}

/** Waits for Ready; a session that ended instead is an error with its message. */
export async function waitReady(ctx: CliContext, api: Api, name: string, timeout: string | undefined, quiet: boolean): Promise<ExecSession> {
  const timeoutMs = durationFlag('--timeout', timeout ?? DEFAULT_READY_TIMEOUT);
  const progress = new Progress(ctx.io.stderr, quiet);
  let last: string | undefined;
  const session = await interruptible(ctx, progress, () => interruptedMessage(api.namespace, name, last),
    waitForSession(api, api.namespace, name, 'ready', { timeoutMs, progress, onRead: (s) => void (last = s?.status?.phase) }));
  if (session.status?.phase !== 'Ready') throw new CliError(endedMessage(session));
  return session;
}

/** How long past its expiry a one-off command's session is waited for: the operator ends it by then. */
const AFTER_EXPIRY_MS = 60_000;

/**
 * How long a one-off command is waited for without --timeout: until the
 * session's expiry and a minute. The operator decides the expiry when the
 * session starts; until then, as long as create waits for Ready, except while
 * it waits for approvals (the operator ends it at the policy's approval.timeout).
 */
export function untilExpiry(readyTimeoutMs: number): WaitLimitOf {
  return (last, waitStartedMs) => {
    const at = expiresAtMs(last?.status);
    if (at !== undefined) return at + AFTER_EXPIRY_MS - waitStartedMs;
    return last?.status?.phase === 'WaitingForApproval' ? Number.POSITIVE_INFINITY : readyTimeoutMs;
  };
}

/**
 * A one-off command: waits until it ended (by default until its expiry and a
 * minute, since the operator ends it by then), then prints its recorded output.
 * Progress only on a terminal: on a pipe, stderr belongs to the command.
 */
async function finishRun(ctx: CliContext, api: Api, name: string, flags: CreateFlags): Promise<number> {
  const timeoutMs = flags.timeout ? durationFlag('--timeout', flags.timeout) : untilExpiry(durationFlag('--timeout', DEFAULT_READY_TIMEOUT));
  const session = await waitForSession(api, api.namespace, name, 'end', { timeoutMs, progress: new Progress(ctx.io.stderr, true) });
  const outcome = runOutcome(session);
  ctx.io.stdout.write(outcome.stdout);
  ctx.io.stderr.write(outcome.stderr);
  for (const note of outcome.notes) printErr(ctx, note);
  return outcome.exitCode;
}
