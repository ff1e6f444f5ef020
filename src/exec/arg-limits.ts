/**
 * The kernel's limits on exec arguments, which a session's process meets twice:
 * in the helper's own exec (the runtime backend passes the whole OCI process
 * spec, the container's environment included, as one argument) and when the
 * process starts in the container. Past them execve fails with E2BIG,
 * "argument list too long"; that never gets better by retrying, so the session
 * fails with a reason instead.
 */

/** Longest single argument or environment string, its NUL included (MAX_ARG_STRLEN: 32 pages of 4 KiB). */
export const MAX_ARG_STRLEN = 128 * 1024;

/** All arguments together, with their pointers: a quarter of the usual 8 MiB stack limit. */
export const MAX_ARGS_TOTAL = 2 * 1024 * 1024;

/** How an argv would exceed the limits. */
export interface ArgvTooLong {
  /** Bytes of the largest argument, its NUL included. */
  largest: number;
  /** Bytes of all arguments with their NULs and pointers. */
  total: number;
  /** Which limit it exceeds. */
  limit: 'MAX_ARG_STRLEN' | 'total';
}

/** How `argv` exceeds the kernel's limits, or undefined when it fits. */
export function argvTooLong(argv: readonly string[]): ArgvTooLong | undefined {
  const sizes = argv.map((a) => Buffer.byteLength(a, 'utf8') + 1);
  const largest = Math.max(0, ...sizes);
  const total = sizes.reduce((n, s) => n + s + 8, 0);
  if (largest > MAX_ARG_STRLEN) return { largest, total, limit: 'MAX_ARG_STRLEN' };
  if (total > MAX_ARGS_TOTAL) return { largest, total, limit: 'total' };
  return undefined;
}

/** True for an error that says an exec failed with E2BIG. */
export function isArgListTooLong(e: unknown): boolean {
  return /argument list too long|\bE2BIG\b/i.test(e instanceof Error ? e.message : String(e));
}

/** Bytes of a list of strings as exec counts them (each with its NUL). */
export function stringsBytes(list: readonly string[]): number {
  return list.reduce((n, s) => n + Buffer.byteLength(s, 'utf8') + 1, 0);
}

/** What makes up a too-long exec, for the message. */
export interface ExecParts {
  /** Bytes of the container's environment the process inherits. */
  envBytes: number;
  /** Bytes of the command. */
  commandBytes: number;
}

/** Why the exec cannot work and what to do, after "the session's process cannot start in X: ". */
export function describeTooLong(r: ArgvTooLong, parts: ExecParts): string {
  const why = r.limit === 'MAX_ARG_STRLEN'
    ? `one argument of the exec that starts it would take ${r.largest} bytes, above the kernel's limit of ${MAX_ARG_STRLEN} for one argument`
    : `the arguments of the exec that starts it would take ${r.total} bytes, above the ${MAX_ARGS_TOTAL} the kernel takes`;
  return `${why} ("argument list too long", E2BIG): the container's environment takes ${parts.envBytes} bytes and the command ${parts.commandBytes}. ` +
    'Shorten spec.command, or the container\'s environment (a large variable), and create a new session';
}
