/**
 * Whom the webhook answers: kube-apiserver, and nobody else. Anyone who could
 * reach the webhook's port and post an AdmissionReview could otherwise have a
 * stamp signed for any identity they wrote into it. kube-apiserver presents a
 * client certificate to webhooks when its AdmissionConfiguration says so
 * (config/README.md); by default the webhook trusts the certificate that
 * kube-apiserver presents as front proxy: the requestheader client CA and
 * allowed names the cluster publishes, which the aggregated API trusts too.
 */
import { readFile } from 'node:fs/promises';
import type { ClientTrust } from '../http/client-cert.js';
import type { Kube } from '../k8s/kube.js';
import { REQUEST_HEADER_CONFIGMAP, loadRequestHeaderConfig, type RequestHeaderConfig } from '../k8s/request-header.js';

/** The flags: a CA file ('' for the cluster's requestheader CA) and names (undefined for the cluster's allowed names). */
export interface WebhookClientConfig {
  caFile: string;
  names?: string[];
}

/** The trust in use, with where it came from (for logs and refusals). */
export interface WebhookClientTrust extends ClientTrust {
  description: string;
}

/** The webhook cannot know whom to trust; the message says what to set. */
export class ClientTrustError extends Error {}

async function clusterSettings(kube: Kube): Promise<RequestHeaderConfig> {
  try {
    return await loadRequestHeaderConfig(kube);
  } catch (e) {
    throw new ClientTrustError(`the webhook trusts kube-apiserver's client certificate by the requestheader CA in ConfigMap ${REQUEST_HEADER_CONFIGMAP}, which cannot be read: `
      + `${e instanceof Error ? e.message : String(e)}; or set --webhook-client-ca and --webhook-client-names`);
  }
}

async function caFromFile(file: string, read: (f: string) => Promise<string>): Promise<string> {
  let pem: string;
  try {
    pem = await read(file);
  } catch (e) {
    throw new ClientTrustError(`--webhook-client-ca ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!pem.includes('BEGIN CERTIFICATE')) throw new ClientTrustError(`--webhook-client-ca ${file} holds no PEM certificate; give the CA that signs kube-apiserver's webhook client certificate`);
  return pem;
}

/** Loads the CA and names the webhook's clients are checked against. */
export async function loadWebhookClientTrust(kube: Kube, cfg: WebhookClientConfig, read = (f: string) => readFile(f, 'utf8')): Promise<WebhookClientTrust> {
  const cluster = !cfg.caFile || cfg.names === undefined ? await clusterSettings(kube) : undefined;
  const ca = cfg.caFile ? await caFromFile(cfg.caFile, read) : cluster?.clientCA ?? '';
  const allowedNames = cfg.names ?? cluster?.allowedNames ?? [];
  const from = cfg.caFile ? `CA ${cfg.caFile}` : `the requestheader CA of ConfigMap ${REQUEST_HEADER_CONFIGMAP}`;
  const names = allowedNames.length > 0 ? `CN ${allowedNames.join(' or ')}` : 'any CN';
  return { ca, allowedNames, description: `${from}, ${names}` };
}
