/**
 * ExecSession requests: the CRD (execsession.dev) for create/get/list, the
 * operator's aggregated API (subresources.execsession.dev) for the actions.
 */
import { subresourcePath, type SubresourceName } from '../api/subresources.js';
import { GROUP, PLURAL, VERSION, type ExecSession } from '../api/types.js';
import type { Api } from './client.js';
import { ApiError, CliError } from './errors.js';

/** Path of the sessions of a namespace (all namespaces without one), or of one session. */
export function sessionPath(namespace: string | undefined, name?: string): string {
  const base = namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

/** The `ns/name` form used in messages. */
export function ref(s: { metadata: { namespace?: string; name?: string } }): string {
  return `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
}

/** Reads a session; a 404 says how to find the right name. */
export async function getSession(api: Api, namespace: string, name: string): Promise<ExecSession> {
  try {
    return await api.request<ExecSession>('GET', sessionPath(namespace, name));
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) {
      throw new CliError(`execsession ${namespace}/${name} not found: "kubectl execsession list -n ${namespace}" shows the sessions there`);
    }
    throw e;
  }
}

/** Lists the sessions of a namespace, or of all namespaces when it is undefined; oldest first. */
export async function listSessions(api: Api, namespace: string | undefined): Promise<ExecSession[]> {
  const list = await api.request<{ items?: ExecSession[] }>('GET', sessionPath(namespace));
  return list.items ?? [];
}

/**
 * Creates a session; the admission webhook's refusals come back as the
 * ApiError's message, its warnings on stderr (unless `quietWarnings`).
 */
export function createSession(api: Api, session: ExecSession, quietWarnings = false, dryRun = false): Promise<ExecSession> {
  return api.request<ExecSession>('POST', `${sessionPath(session.metadata.namespace)}${dryRun ? '?dryRun=All' : ''}`, session, { quietWarnings });
}

/** POSTs an action (approve, deny, revoke, extend) to the aggregated API; returns the updated session. */
export function postAction(api: Api, namespace: string, name: string, action: SubresourceName, body: Record<string, unknown>): Promise<ExecSession> {
  return api.request<ExecSession>('POST', subresourcePath(namespace, name, action), body);
}
