/**
 * Raw terminal mode that is always undone. A raw terminal left behind (no echo,
 * no line editing) is the worst thing a CLI can do to its user, so restoring is
 * hooked to every way out: the returned restore() for the normal end and errors,
 * SIGINT/SIGTERM/SIGHUP, an uncaught exception or rejection, and process.exit.
 */
import { constants } from 'node:os';

/** What raw mode needs from stdin (a tty.ReadStream in real use). */
export interface RawCapableInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** What restoring needs from the process: its events and exit. */
export interface ProcessHooks {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code?: number): unknown;
}

/** Signals that end the CLI; each restores the terminal and exits 128 + its number. */
export const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Undoes raw mode; safe to call any number of times. */
export type Restore = () => void;

/**
 * Puts `input` into raw mode when it is a terminal, and returns the one function
 * that puts it back. Until then, the process's signals, uncaught exceptions and
 * exit all restore it first. Not a terminal: nothing changes, restore is a no-op.
 */
export function enterRawMode(input: RawCapableInput, proc: ProcessHooks): Restore {
  if (!input.isTTY || typeof input.setRawMode !== 'function') return () => undefined;
  const wasRaw = input.isRaw === true;
  let restored = false;
  const hooks: [string, (...args: unknown[]) => void][] = [];

  const restore: Restore = () => {
    if (restored) return;
    restored = true;
    for (const [event, listener] of hooks) proc.removeListener(event, listener);
    input.setRawMode?.(wasRaw);
  };
  const hook = (event: string, listener: (...args: unknown[]) => void): void => {
    hooks.push([event, listener]);
    proc.on(event, listener);
  };

  // 'exit' runs synchronously inside process.exit(), and setRawMode is synchronous.
  hook('exit', restore);
  // The monitor runs before node's default handler, which still prints and exits 1.
  hook('uncaughtExceptionMonitor', restore);
  for (const signal of EXIT_SIGNALS) {
    // A listener replaces the default "die", so exit with the shell's code for the signal.
    hook(signal, () => {
      restore();
      proc.exit(128 + constants.signals[signal]);
    });
  }
  input.setRawMode(true);
  return restore;
}
