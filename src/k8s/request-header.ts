/**
 * The cluster's requestheader settings, as kube-apiserver publishes them in
 * ConfigMap kube-system/extension-apiserver-authentication: the CA that signs
 * the client certificate kube-apiserver presents as front proxy, the names that
 * certificate may carry, and the headers that hold the caller's identity. The
 * aggregated API trusts the front proxy with them; the admission webhook, by
 * default, trusts the same certificate as kube-apiserver's.
 */
import type { Kube } from './kube.js';

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

/** Where the settings come from, for messages. */
export const REQUEST_HEADER_CONFIGMAP = `${NS}/${NAME}`;

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
