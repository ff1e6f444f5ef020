/**
 * Trust in kube-apiserver's front proxy: the requestheader settings the cluster
 * publishes in ConfigMap kube-system/extension-apiserver-authentication (the CA
 * that signs the proxy's client certificate, the names it may carry, and the
 * headers that hold the caller's identity), and reading the caller from a request
 * that came through it. A request without such a certificate is never trusted,
 * whatever its headers say.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { clientCertProblem, clientName } from '../http/client-cert.js';
import type { Kube } from '../k8s/kube.js';
import { ApiError, type Caller } from './types.js';

/** The requestheader authentication settings of the cluster. */
export interface RequestHeaderConfig {
  /** PEM of the CA(s) that sign front-proxy client certificates. */
  clientCA: string;
  /** Common names the client certificate may carry; empty allows any the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

const NS = 'kube-system';
const NAME = 'extension-apiserver-authentication';

function jsonList(text: string | undefined, fallback: string[]): string[] {
  if (!text) return fallback;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : fallback;
  } catch {
    return fallback;
  }
}

/** Parses the ConfigMap's data; undefined when it names no requestheader CA. */
export function parseRequestHeaderConfig(data: Record<string, string> | undefined): RequestHeaderConfig | undefined {
  const clientCA = data?.['requestheader-client-ca-file'];
  if (!clientCA?.includes('BEGIN CERTIFICATE')) return undefined;
  return {
    clientCA,
    allowedNames: jsonList(data?.['requestheader-allowed-names'], []),
    usernameHeaders: jsonList(data?.['requestheader-username-headers'], ['X-Remote-User']),
    groupHeaders: jsonList(data?.['requestheader-group-headers'], ['X-Remote-Group']),
    extraHeaderPrefixes: jsonList(data?.['requestheader-extra-headers-prefix'], ['X-Remote-Extra-']),
  };
}

/** Reads the cluster's requestheader settings; fails with what to fix when they are missing. */
export async function loadRequestHeaderConfig(kube: Kube): Promise<RequestHeaderConfig> {
  const cm = await kube.getConfigMap(NS, NAME);
  const cfg = parseRequestHeaderConfig(cm?.data);
  if (!cfg) {
    throw new Error(`ConfigMap ${NS}/${NAME} has no requestheader-client-ca-file: kube-apiserver must run with --requestheader-client-ca-file `
      + '(and --proxy-client-cert-file/--proxy-client-key-file) for aggregated APIs, and the operator needs the Role extension-apiserver-authentication-reader in kube-system');
  }
  return cfg;
}

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
export function callerFrom(headers: IncomingHttpHeaders, distinct: NodeJS.Dict<string[]>, cfg: RequestHeaderConfig): Caller | undefined {
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
