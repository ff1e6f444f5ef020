/**
 * Ctrl-C while the CLI waits for a session (wait, create --wait/-it, attach
 * before Ready): the spinner's line is cleared, so the shell's prompt starts on
 * a clean line, and the user is told that the session goes on and how to wait
 * again or end it; the exit code is 130, as for any SIGINT.
 */
import type { CliContext } from './context.js';
import { printErr } from './context.js';
import type { Progress } from './progress.js';

/** SIGINT's exit code (128 + 2). */
export const INTERRUPTED = 130;

/** What to tell the user after Ctrl-C: the session goes on, and how to wait again or end it. */
export function interruptedMessage(namespace: string, name: string, phase: string | undefined): string {
  return `interrupted: execsession ${namespace}/${name} goes on${phase ? ` (${phase})` : ''}; wait again with: kubectl execsession wait ${name} -n ${namespace}; end it with: kubectl execsession revoke ${name} -n ${namespace}`;
}

/** Runs `work`; a SIGINT meanwhile clears the progress line, prints `message()` and exits 130. */
export async function interruptible<T>(ctx: CliContext, progress: Progress, message: () => string, work: Promise<T>): Promise<T> {
  const onSigint = (): void => {
    progress.done();
    printErr(ctx, message());
    ctx.io.proc.exit(INTERRUPTED);
  };
  ctx.io.proc.on('SIGINT', onSigint);
  try {
    return await work;
  } finally {
    ctx.io.proc.removeListener('SIGINT', onSigint);
  }
}
