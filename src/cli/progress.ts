/**
 * What the user sees while a session gets ready: on a terminal, one line that
 * rewrites itself (spinner, phase, the operator's message); elsewhere, one line
 * per change, so logs stay readable.
 */
import type { ExecSession } from '../api/types.js';
import { printableInline } from './printable.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Where progress goes (process.stderr in real use). */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** After this long without any status, the operator is probably not running. */
export const NO_OPERATOR_AFTER_MS = 10_000;

/**
 * `Pending: waiting for …`: the phase and, when there is one, the operator's
 * message; a session no one has touched for a while says so.
 */
export function describeProgress(session: ExecSession | undefined, elapsedMs = 0): string {
  const phase = session?.status?.phase ?? 'Pending';
  let message = session?.status?.message?.trim();
  if (!session?.status?.phase && elapsedMs >= NO_OPERATOR_AFTER_MS) {
    message = 'no status from the operator yet: is it running? (its pods, e.g. "kubectl -n execsession-system get pods")';
  }
  return message ? `${phase}: ${message}` : phase;
}

/** The terminal line for a spinner frame, cut to the terminal's width so it never wraps. */
export function spinnerLine(text: string, frame: number, columns: number | undefined): string {
  const line = `${FRAMES[frame % FRAMES.length]} ${text}`;
  return columns && columns > 4 && line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
}

/** A progress indicator; `quiet` shows nothing unless the output is a terminal. */
export class Progress {
  private text: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: ProgressOutput & { columns?: number }, private readonly quiet = false) {}

  /** Shows the session's current phase. */
  update(session: ExecSession | undefined, elapsedMs = 0): void {
    const text = printableInline(describeProgress(session, elapsedMs));
    if (text === this.text) return;
    this.text = text;
    if (!this.out.isTTY) {
      if (!this.quiet) this.out.write(`${text}\n`);
      return;
    }
    this.draw();
    // The spinner turns between polls; unref'd so it never keeps the process alive.
    this.timer ??= setInterval(() => this.draw(), 100).unref();
  }

  /** Clears the line and stops the spinner. */
  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.out.isTTY && this.text !== undefined) this.out.write('\r\x1b[K');
    this.text = undefined;
  }

  private draw(): void {
    this.out.write(`\r\x1b[K${spinnerLine(this.text ?? '', this.frame++, this.out.columns)}`);
  }
}
