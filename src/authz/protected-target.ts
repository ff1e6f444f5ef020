/**
 * Targets no policy can open: the operator's own namespace (--namespace), where
 * the operator runs and its helper pods do, privileged, hostPID and with the
 * node's root filesystem mounted. A session there would hand whoever holds it
 * the node, and the operator's signing key, so it is refused whatever RBAC and
 * policies say, at admission and again in the controller.
 */

/** Why a target is out of bounds. */
export interface ProtectedTarget {
  reason: 'OperatorNamespace';
  message: string;
}

/** Why no session may target pods in `namespace`, or undefined when sessions may. */
export function protectedTarget(namespace: string, operatorNamespace: string): ProtectedTarget | undefined {
  if (namespace !== operatorNamespace) return undefined;
  return {
    reason: 'OperatorNamespace',
    message: `namespace ${namespace} is the execsession operator's own: the operator and its privileged helper pods (each with its node's root filesystem) run there, ` +
      'so no session may target a pod in it, whatever RBAC and policies allow. Debug the operator itself with its logs or kubectl, as a cluster administrator',
  };
}
