/**
 * Fields every log line carries while one piece of work runs: a reconcile's
 * ID and its session's namespace and name, an aggregated-API request's
 * Audit-Id (kube-apiserver's, so a log line finds its audit event) and
 * target. pino adds them through its `mixin` (main.ts); the parts log as
 * before. A leaf, beside the Logger interface.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const fields = new AsyncLocalStorage<Readonly<Record<string, string>>>();

/** Runs `f` with these fields (added to the ones already in force) on every log line it writes. */
export function withLogContext<T>(add: Record<string, string | undefined>, f: () => T): T {
  const set = Object.fromEntries(Object.entries(add).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  return fields.run({ ...fields.getStore(), ...set }, f);
}

/** The fields in force (pino's mixin). */
export function logContext(): Record<string, string> {
  return { ...fields.getStore() };
}

/** kube-apiserver's Audit-Id header as forwarded, when it looks like one (it is for correlation, never trusted). */
export function auditIdOf(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  return v && /^[A-Za-z0-9-]{1,64}$/.test(v) ? v : undefined;
}
