/**
 * Which container of the target pod a session enters: what spec.container
 * means (src/api/types.ts), decided once for admission's policy check, the
 * controller's target and the authorizer, as kubectl exec decides it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ExecSessionSpec } from './types.js';

/** The annotation kubectl reads for a pod's default container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** The container the session targets: spec.container, else the pod's default-container annotation, else its first. */
export function chooseContainer(spec: Pick<ExecSessionSpec, 'container'>, pod: V1Pod): string | undefined {
  return spec.container || pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION] || pod.spec?.containers[0]?.name;
}
