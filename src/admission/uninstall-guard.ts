/**
 * The uninstall guard: while any session lives, kube-apiserver asks the operator
 * before deleting one of its own objects (labelled app.kubernetes.io/part-of:
 * execsession: the namespace, Deployment, RBAC, Services, APIService, CRDs), and
 * the operator refuses, naming the sessions and how to end them. Deleting them
 * would leave their processes running in the targets with nothing left to end
 * them at expiry. A stopped operator cannot answer and refuses nothing
 * (failurePolicy Ignore): there is nothing left to protect the sessions then.
 * docs/adr/0021-uninstall-refused-while-sessions-live.md.
 */
import { isTerminalPhase, type ExecSession } from '../api/types.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

/** The label every object of an install carries (config/default, the Helm chart). */
export const PART_OF = { key: 'app.kubernetes.io/part-of', value: 'execsession' } as const;

/** The kinds an install holds, whose DELETE the guard sees. */
export const GUARDED_RESOURCES: ReadonlyArray<{ apiGroups: string[]; resources: string[] }> = [
  { apiGroups: [''], resources: ['namespaces', 'serviceaccounts', 'services'] },
  { apiGroups: ['apps'], resources: ['deployments'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'] },
  { apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'] },
];

/** How many live sessions the refusal names before "and N more". */
const NAMED = 5;

/** Sessions that have not reached a final phase (a deleted one still needs the operator to end it). */
export function liveSessions(sessions: ExecSession[]): ExecSession[] {
  return sessions.filter((s) => !isTerminalPhase(s.status?.phase));
}

/** The answer to a DELETE of an install's object, given every session there is. */
export function guardUninstall(r: AdmissionRequest, sessions: ExecSession[]): AdmissionResponse {
  const live = liveSessions(sessions);
  if (r.operation !== 'DELETE' || live.length === 0) return { uid: r.uid, allowed: true };
  const named = live.slice(0, NAMED).map((s) => {
    const expires = s.status?.expiresAt ? `, expires ${s.status.expiresAt}` : '';
    return `${s.metadata.namespace}/${s.metadata.name} (${s.status?.phase ?? 'Pending'}${expires})`;
  });
  const more = live.length > NAMED ? ` and ${live.length - NAMED} more` : '';
  const kind = r.resource ? [r.resource.resource, r.resource.group].filter(Boolean).join('.') : 'object';
  // kube-apiserver sets a Namespace's own name as the review's namespace.
  const where = r.namespace && kind !== 'namespaces' ? `${r.namespace}/` : '';
  const what = `${kind} ${where}${r.name ?? ''}`;
  const message = `UninstallGuard: execsession refuses to delete ${what} while ${live.length} session${live.length === 1 ? '' : 's'} ` +
    `live: ${named.join(', ')}${more}. Removing the operator now would leave their processes running. ` +
    'End them first with `kubectl execsession revoke NAME -n NAMESPACE` (their record stays) or wait until they expire ' +
    '(`kubectl get execsessions -A` lists them), then delete again.';
  return { uid: r.uid, allowed: false, status: { code: 409, reason: 'Conflict', message } };
}
