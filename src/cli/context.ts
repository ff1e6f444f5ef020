/**
 * What every command gets: the process's streams, the clock, and a way to reach
 * the cluster. Commands take it as an argument, so tests can run them against
 * a fake Api and in-memory streams.
 */
import type { Writable } from 'node:stream';
import { parseDuration } from '../api/duration.js';
import type { AttachIO } from './attach.js';
import type { Api, GlobalOptions } from './client.js';
import { UsageError } from './errors.js';
import { printable } from './printable.js';

/** The process as commands see it. */
export interface CliContext {
  io: AttachIO & { stderr: Writable & { isTTY?: boolean; columns?: number } };
  /** Connects with the global flags; loads the kubeconfig only when a command needs it. */
  connect(globals: GlobalOptions): Promise<Api>;
  now(): Date;
}

/** Writes a line to stdout, its control characters escaped. */
export function print(ctx: CliContext, text: string): void {
  const safe = printable(text);
  ctx.io.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Writes a line to stderr, its control characters escaped. */
export function printErr(ctx: CliContext, text: string): void {
  const safe = printable(text);
  ctx.io.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Parses a duration flag; a bad one is a usage error naming the flag. */
export function durationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}
