/**
 * Writes each ExecPolicy's and ClusterExecPolicy's status: whether it is valid,
 * and if not, what is wrong. An invalid policy allows nothing (the evaluator
 * skips it); its status is where its owner learns why.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { PolicyConditionReason, PolicyConditionType, kubeTime, setCondition } from '../api/conditions.js';
import { Watcher } from '../k8s/watcher.js';
import { validatePolicy } from '../policy/validate.js';
import {
  CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL, EXEC_POLICY_KIND, EXEC_POLICY_PLURAL, GROUP, VERSION,
  type AnyExecPolicy, type ExecPolicyStatus,
} from '../policy/types.js';
import type { Logger } from '../log/logger.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The status a policy should have now; undefined when its current one is already right. */
export function policyStatus(p: AnyExecPolicy, now: Date): ExecPolicyStatus | undefined {
  const problems = validatePolicy(p);
  const valid = problems.length === 0;
  const message = valid ? 'valid' : problems.join('; ');
  const gen = p.metadata.generation ?? 0;
  const current = p.status;
  if (current?.valid === valid && current.message === message && current.observedGeneration === gen) return undefined;
  const reason = valid ? PolicyConditionReason.Valid : PolicyConditionReason.Invalid;
  const conditions = setCondition(current?.conditions, { type: PolicyConditionType.Valid, status: valid ? 'True' : 'False', reason, message }, gen, now);
  return { valid, message, observedGeneration: gen, conditions };
}

export class PolicyStatusWriter {
  private watchers: Watcher[] = [];

  constructor(private readonly kc: KubeConfig, private readonly log: Logger) {}

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const write = (kind: string, plural: string) => (_type: string, obj: unknown): void => {
      const p = { ...(obj as AnyExecPolicy), kind } as AnyExecPolicy;
      if (_type === 'DELETED') return;
      const status = policyStatus(p, new Date());
      if (!status) return;
      const ref = { group: GROUP, version: VERSION, plural, name: p.metadata.name ?? '', body: { status } };
      const done = p.metadata.namespace
        ? custom.patchNamespacedCustomObjectStatus({ ...ref, namespace: p.metadata.namespace }, mergePatch)
        : custom.patchClusterCustomObjectStatus(ref, mergePatch);
      done.catch((e: unknown) => this.log.warn({ policy: p.metadata.name, err: String(e) }, 'could not write policy status'));
    };
    this.watchers = [
      new Watcher(this.kc, { path: `/apis/${GROUP}/${VERSION}/${EXEC_POLICY_PLURAL}`, list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: EXEC_POLICY_PLURAL })) as never, onObject: write(EXEC_POLICY_KIND, EXEC_POLICY_PLURAL) }, this.log),
      new Watcher(this.kc, { path: `/apis/${GROUP}/${VERSION}/${CLUSTER_EXEC_POLICY_PLURAL}`, list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: CLUSTER_EXEC_POLICY_PLURAL })) as never, onObject: write(CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL) }, this.log),
    ];
    await Promise.all(this.watchers.map((w) => w.start()));
    this.log.debug({ at: kubeTime(new Date()) }, 'policy status writer started');
  }

  stop(): void {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }
}
