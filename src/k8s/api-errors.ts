/**
 * The one classification of failed Kubernetes API calls
 * (docs/adr/0020-api-error-taxonomy.md). Every place that decides what a failure
 * means asks `classifyApiError`, so a throttled or restarting API server is never
 * mistaken for a refusal, and a refusal never retried for ever:
 *
 * - `conflict` (409): the object changed, or exists already; read again and redo.
 * - `notFound` (404): it is gone; usually nothing is left to do.
 * - `transient` (429, 408, 5xx, and every failure without an HTTP status: a
 *   reset or timed-out connection, an API server that is not there): retry with
 *   backoff; it never ends a session.
 * - `refused` (any other 4xx: forbidden, invalid, an admission denial): retrying
 *   will not help; report the server's own message and stop.
 */
import { ApiException } from '@kubernetes/client-node';

/** What a failed API call means for the caller. */
export type ApiErrorClass = 'conflict' | 'notFound' | 'refused' | 'transient';

/** The HTTP status of a failed API call, or undefined for other errors. */
export function apiStatus(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** The HTTP status an error carries: an API exception's, or a numeric `code` (a watch's Status, a list's error). */
function httpStatus(e: unknown): number | undefined {
  const code = apiStatus(e) ?? (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** Classifies a failed API call (see the module comment). */
export function classifyApiError(e: unknown): ApiErrorClass {
  const status = httpStatus(e);
  // No HTTP answer at all (ECONNRESET, ETIMEDOUT, ECONNREFUSED, a socket hang-up):
  // the server never said no, so the call is worth another try.
  if (status === undefined) return 'transient';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 429 || status === 408 || status >= 500) return 'transient';
  return status >= 400 ? 'refused' : 'transient';
}

/** The API server's own message for a failed call (admission denials included). */
export function apiMessage(e: unknown): string {
  if (e instanceof ApiException) {
    const msg = typeof e.body === 'string' ? bodyMessage(e.body) : (e.body as { message?: string } | undefined)?.message;
    return msg ?? `HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The message of an error response's body: its metav1.Status message, else the text itself. */
export function bodyMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { message?: string } | undefined)?.message;
  } catch {
    return text;
  }
}
