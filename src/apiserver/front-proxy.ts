/**
 * Trust in kube-apiserver's front proxy, by the requestheader settings the
 * cluster publishes (src/k8s/request-header.ts: the CA that signs the proxy's
 * client certificate, the names it may carry, and the headers that hold the
 * caller's identity), and reading the caller from a request that came through
 * it. A request without such a certificate is never trusted, whatever its
 * headers say.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { clientCertProblem, clientName } from '../http/client-cert.js';
import type { RequestHeaderConfig } from '../k8s/request-header.js';
import type { Person } from '../api/types.js';
import { ApiError } from './types.js';

/** Why a connection is not the front proxy, or undefined when it is. */
export function frontProxyProblem(socket: TLSSocket, cfg: RequestHeaderConfig): string | undefined {
  const refusal = clientCertProblem(socket, { ca: cfg.clientCA, allowedNames: cfg.allowedNames });
  switch (refusal?.kind) {
    case undefined:
      return undefined;
    case 'NoCertificate':
      return 'no client certificate: only kube-apiserver may call this API; go through it (kubectl execsession, or the API server URL in status.attach.url)';
    case 'Untrusted':
      return `the client certificate is not signed by the cluster's requestheader CA (${String(socket.authorizationError)})`;
    default:
      return `client certificate CN "${clientName(socket)}" is not one of the requestheader allowed names`;
  }
}

function values(headers: IncomingHttpHeaders, distinct: NodeJS.Dict<string[]>, name: string): string[] {
  const v = distinct[name.toLowerCase()] ?? headers[name.toLowerCase()];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * The key of an extra header: the rest of its name, percent-decoded (kube-apiserver
 * escapes keys such as `scopes/write`). Malformed encoding is refused with 400
 * rather than dropped, since an extra can take part in authorization.
 */
export function extraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new ApiError(400, 'BadRequest', `the forwarded header of user extra "${encoded.slice(0, 100)}" is not valid percent-encoding; it cannot be read as an extra key`);
  }
}

/**
 * The caller forwarded by the front proxy; undefined when no username header is
 * set. Throws ApiError(400) for an extra header whose key is malformed.
 */
export function callerFrom(headers: IncomingHttpHeaders, distinct: NodeJS.Dict<string[]>, cfg: RequestHeaderConfig): Person | undefined {
  const username = cfg.usernameHeaders.map((h) => values(headers, distinct, h)[0]).find((u) => u);
  if (!username) return undefined;
  const groups = cfg.groupHeaders.flatMap((h) => values(headers, distinct, h));
  // A map without a prototype: a key such as __proto__ is a key like any other.
  const extra: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, v] of Object.entries(distinct)) {
    const prefix = cfg.extraHeaderPrefixes.find((p) => name.startsWith(p.toLowerCase()));
    if (!prefix || !v) continue;
    const key = extraKey(name.slice(prefix.length));
    extra[key] = [...(extra[key] ?? []), ...v];
  }
  return { username, groups, extra: { ...extra } };
}
