/** `wait` and `attach`: follow one session, then report or connect to it. */
import { attach } from './attach.js';
import type { GlobalOptions } from './client.js';
import { DEFAULT_READY_TIMEOUT, waitReady } from './cmd-create.js';
import { durationFlag, print, type CliContext } from './context.js';
import { CliError, UsageError } from './errors.js';
import { endedMessage } from './outcome.js';
import { interruptedMessage, interruptible } from './interrupt.js';
import { Progress } from './progress.js';
import { waitForSession, type WaitFor } from './wait.js';

/** `wait`'s flags. */
export interface WaitFlags {
  for: string;
  timeout: string;
}

/**
 * Runs `wait`: 0 once the session is Ready (--for ready) or has ended (--for
 * end); 1 when it ended short of Ready, with its message.
 */
export async function runWait(ctx: CliContext, globals: GlobalOptions, name: string, flags: WaitFlags): Promise<number> {
  if (flags.for !== 'ready' && flags.for !== 'end') throw new UsageError(`--for ${flags.for}: use --for ready or --for end`);
  const timeoutMs = durationFlag('--timeout', flags.timeout || DEFAULT_READY_TIMEOUT);
  const api = await ctx.connect(globals);
  const waitFor: WaitFor = flags.for;
  const progress = new Progress(ctx.io.stderr);
  let last: string | undefined;
  const session = await interruptible(ctx, progress, () => interruptedMessage(api.namespace, name, last),
    waitForSession(api, api.namespace, name, waitFor, { timeoutMs, progress, onRead: (s) => void (last = s?.status?.phase) }));
  const phase = session.status?.phase;
  if (waitFor === 'ready' && phase !== 'Ready' && phase !== 'Running') throw new CliError(endedMessage(session));
  print(ctx, `execsession ${api.namespace}/${name} ${phase === 'Ready' ? 'is Ready' : `is ${phase}`}${session.status?.message && phase !== 'Ready' ? `: ${session.status.message}` : ''}`);
  return 0;
}

/** `attach`'s flags: `tty` is false for -T/--no-tty, true for -t, else undefined. */
export interface AttachFlags {
  tty?: boolean;
  timeout?: string;
}

/**
 * Runs `attach`: waits for Ready, then connects; resolves with the remote
 * process's exit code. A terminal is used when stdin is one, unless -T.
 */
export async function runAttach(ctx: CliContext, globals: GlobalOptions, name: string, command: string[], flags: AttachFlags): Promise<number> {
  const api = await ctx.connect(globals);
  await waitReady(ctx, api, name, flags.timeout, !ctx.io.stderr.isTTY);
  const tty = flags.tty ?? ctx.io.stdin.isTTY === true;
  return attach(api, { namespace: api.namespace, name, command, tty, stdin: true }, ctx.io);
}
