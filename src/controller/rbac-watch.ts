/**
 * Watches on the four RBAC kinds, so that a waiting session is decided again
 * when a Role or binding changes rather than on a timer (ADR 35). Only that
 * something changed is passed on; no RBAC object is kept.
 */
import { type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { apiMessage } from '../k8s/api-errors.js';
import { Watcher } from '../k8s/watcher.js';
import type { Logger } from '../log/logger.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** What a change is reported to: the object (for its namespace), or a relist after a watch gap. */
export interface RbacListener {
  rbac(type: string, o: { metadata?: { namespace?: string } }): void;
  rbacRelisted(): void;
}

/**
 * Starts the watches. One that cannot list (an install whose RBAC predates
 * this) is logged and left out: decisions stay correct, since every session is
 * decided afresh before it starts, but a waiting one then learns of a lost
 * binding only when it is looked at again.
 */
export async function watchRbac(kc: KubeConfig, listener: RbacListener, log: Logger): Promise<Watcher[]> {
  const api = kc.makeApiClient(RbacAuthorizationV1Api);
  const kinds: Array<[string, () => Promise<unknown>]> = [
    ['roles', () => api.listRoleForAllNamespaces()],
    ['rolebindings', () => api.listRoleBindingForAllNamespaces()],
    ['clusterroles', () => api.listClusterRole()],
    ['clusterrolebindings', () => api.listClusterRoleBinding()],
  ];
  const started: Watcher[] = [];
  await Promise.all(kinds.map(async ([plural, list]) => {
    let listedOnce = false;
    const w = new Watcher(kc, {
      path: `${RBAC}/${plural}`,
      list: list as never,
      onObject: (type, obj) => listener.rbac(type, obj),
      onList: () => {
        if (listedOnce) listener.rbacRelisted();
        listedOnce = true;
      },
    }, log);
    try {
      await w.start();
      started.push(w);
    } catch (e) {
      log.warn({ err: apiMessage(e), resource: plural }, `cannot watch ${plural}: waiting sessions are decided again on other changes only; grant list and watch on ${plural} (config/rbac)`);
    }
  }));
  return started;
}
