/**
 * The CLI's error taxonomy: a CliError ends the command with its message on
 * stderr and its exit code (1, as kubectl's, usage errors included); anything
 * else is a bug and is printed with its stack.
 */
import { SUBRESOURCE_GROUP, SUBRESOURCE_VERSION } from '../api/subresources.js';
import { GROUP, PLURAL, VERSION } from '../api/types.js';

/** Exit code for failures: the request was fine, the outcome was not. */
export const EXIT_FAILURE = 1;
/**
 * Exit code for usage errors (bad flags or arguments): 1, as kubectl's, so that only a
 * remote command's own exit code is ever anything else.
 */
export const EXIT_USAGE = 1;

/** An expected failure: its message says what went wrong and what to do. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_FAILURE) {
    super(message);
  }
}

/** Bad arguments (exit code 1, as every error of the plugin). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** An API server answer that was not 2xx, with the Status message when there was one. */
export class ApiError extends CliError {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

/** metav1.Status, as far as the CLI reads it. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

/** Parses a metav1.Status from a response body; undefined when it is not one. */
export function parseStatus(body: string): Status | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === 'object' && (v as Status).kind === 'Status') return v as Status;
  } catch {
    // Not JSON: the caller falls back to the raw text.
  }
  return undefined;
}

// kube-apiserver's answers when no one serves the API group (CRD or APIService missing).
const NOT_SERVED = ['the server could not find the requested resource', '404 page not found'];

// Status reasons by HTTP code, for answers without a Status body.
const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Gone',
  429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
};

/** What to check when an API group is not served: the operator's API, or the CRD. */
function notServedHint(what: string): string {
  if (what.includes(SUBRESOURCE_GROUP) || what.startsWith('attach')) {
    return `The operator's API (${SUBRESOURCE_GROUP}) is not available: is the operator running? ` +
      `Check "kubectl get apiservice ${SUBRESOURCE_VERSION}.${SUBRESOURCE_GROUP}".`;
  }
  return `The ExecSession API (${GROUP}/${VERSION}) is not installed in this cluster: ` +
    `install it ("kubectl apply -k config/default" from the execsession repository), or check "kubectl get crd ${PLURAL}.${GROUP}".`;
}

/**
 * Turns a non-2xx answer into an ApiError whose message is the Status message
 * (kube-apiserver's RBAC refusal or the operator's), with a hint where the bare
 * message would leave the user guessing.
 */
export function apiErrorFrom(code: number, body: string, what: string): ApiError {
  const status = parseStatus(body);
  const reason = status?.reason || REASONS[code] || `HTTP${code}`;
  let message = status?.message || body.trim().slice(0, 500) || `HTTP ${code}`;
  if (NOT_SERVED.includes(message) || code === 503) {
    message = `${what}: ${message}. ${notServedHint(what)}`;
  } else if (code === 401) {
    message = `${what}: ${message}. Your credentials were refused: check the kubeconfig (--kubeconfig, --context) and log in again.`;
  }
  return new ApiError(code, reason, message);
}
