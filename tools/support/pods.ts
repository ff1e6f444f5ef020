/** Pods from the harness's target image, for suites that need a container to enter. */
import { IMAGES } from '../cluster/config.js';
import { eventually, kubectlOk } from './cluster.js';

/** Options for a target pod. */
export interface TargetPodOptions {
  runAsUser?: number;
  runAsGroup?: number;
  seccompRuntimeDefault?: boolean;
  dropCapabilities?: string[];
  containers?: string[];
  /** false: the pod gets its own user namespace (uids inside are not the host's). */
  hostUsers?: boolean;
}

/** A pod manifest from the target image (users root, alice, bob, nohome; group ops). */
export function targetPod(name: string, namespace: string, o: TargetPodOptions = {}): object {
  const securityContext = {
    ...(o.runAsUser !== undefined ? { runAsUser: o.runAsUser } : {}),
    ...(o.runAsGroup !== undefined ? { runAsGroup: o.runAsGroup } : {}),
    ...(o.seccompRuntimeDefault ? { seccompProfile: { type: 'RuntimeDefault' } } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(o.hostUsers !== undefined ? { hostUsers: o.hostUsers } : {}),
      securityContext,
      containers: (o.containers ?? ['main']).map((c) => ({
        name: c,
        image: IMAGES.target,
        imagePullPolicy: 'Never',
        ...(o.dropCapabilities ? { securityContext: { capabilities: { drop: o.dropCapabilities } } } : {}),
      })),
    },
  };
}

/** Creates the pod and waits until it is Running with every container ready. */
export async function runTargetPod(name: string, namespace: string, o: TargetPodOptions = {}): Promise<void> {
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(targetPod(name, namespace, o)) });
  await kubectlOk(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=90s'], { timeoutMs: 100_000 });
  await eventually(`pod ${name} Running`, async () => (await kubectlOk(['-n', namespace, 'get', 'pod', name, '-o', 'jsonpath={.status.phase}'])) === 'Running');
}
