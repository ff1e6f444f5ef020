/**
 * Writes each ExecPolicy's and ClusterExecPolicy's status: whether it is valid,
 * and if not, what is wrong. An invalid policy allows nothing (the evaluator
 * skips it); its status is where its owner learns why.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { PolicyConditionReason, PolicyConditionType, kubeTime, setCondition } from '../api/conditions.js';
import { apiMessage, classifyApiError } from '../k8s/api-errors.js';
import { Watcher } from '../k8s/watcher.js';
import { validatePolicy } from '../policy/validate.js';
import {
  CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL, EXEC_POLICY_KIND, EXEC_POLICY_PLURAL, GROUP, VERSION,
  type AnyExecPolicy, type ExecPolicyStatus,
} from '../policy/types.js';
import type { Logger } from '../log/logger.js';
import { WorkQueue, type QueueOptions } from './queue.js';

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

/** Writes one policy's status (merge patch of the status subresource); the seam tests fake. */
export interface PolicyStatusClient {
  patchStatus(p: AnyExecPolicy, status: ExecPolicyStatus): Promise<void>;
}

/** The status client over the real API server. */
export function kubePolicyStatusClient(kc: KubeConfig): PolicyStatusClient {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    async patchStatus(p, status) {
      const plural = p.kind === CLUSTER_EXEC_POLICY_KIND ? CLUSTER_EXEC_POLICY_PLURAL : EXEC_POLICY_PLURAL;
      const ref = { group: GROUP, version: VERSION, plural, name: p.metadata.name ?? '', body: { status } };
      if (p.metadata.namespace) await custom.patchNamespacedCustomObjectStatus({ ...ref, namespace: p.metadata.namespace }, mergePatch);
      else await custom.patchClusterCustomObjectStatus(ref, mergePatch);
    },
  };
}

/** What a PolicyStatusWriter is built from; the clock and the queue's backoff are seams for tests. */
export interface PolicyStatusDeps {
  client: PolicyStatusClient;
  log: Logger;
  now?: () => Date;
  queue?: Pick<QueueOptions, 'baseBackoffMs' | 'maxBackoffMs' | 'metrics'>;
  /** Told of every policy listed or watched (the controller decides waiting sessions again: ADR 35). */
  onPolicy?: (type: string, p: AnyExecPolicy) => void;
}

/**
 * Level-triggered, as the session controller: every listed or watched policy
 * becomes a key on a work queue; the worker writes the status the policy's
 * latest version should have. A transient failure (or a conflict) goes back to
 * the queue with backoff (api-errors.ts), so a status write is never lost to a
 * restarting API server; a refused one is logged as an error and waits for the
 * policy's next change.
 */
export class PolicyStatusWriter {
  private watchers: Watcher[] = [];
  private readonly latest = new Map<string, AnyExecPolicy>();
  private readonly queue: WorkQueue;
  private readonly now: () => Date;

  constructor(private readonly d: PolicyStatusDeps) {
    this.now = d.now ?? (() => new Date());
    this.queue = new WorkQueue((key) => this.sync(key), {
      concurrency: 1, ...d.queue,
      onError: (key, err, retryInMs) => d.log.warn({ policy: key, err: apiMessage(err), retryInMs }, 'could not write policy status; will retry'),
    });
  }

  /** Watches both policy kinds; resolves once both are listed. */
  async start(kc: KubeConfig): Promise<void> {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const watch = (kind: AnyExecPolicy['kind'], plural: string): Watcher => new Watcher(kc, {
      path: `/apis/${GROUP}/${VERSION}/${plural}`,
      list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as never,
      onObject: (type, obj) => this.observe(type, { ...(obj as AnyExecPolicy), kind } as AnyExecPolicy),
    }, this.d.log);
    this.watchers = [watch(EXEC_POLICY_KIND, EXEC_POLICY_PLURAL), watch(CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL)];
    await Promise.all(this.watchers.map((w) => w.start()));
    this.d.log.debug({ at: kubeTime(this.now()) }, 'policy status writer started');
  }

  /** A policy as listed or watched: its key is queued (a deleted one is forgotten). */
  observe(type: string, p: AnyExecPolicy): void {
    const key = `${p.kind}/${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
    this.d.onPolicy?.(type, p);
    if (type === 'DELETED') {
      this.latest.delete(key);
      return;
    }
    this.latest.set(key, p);
    this.queue.add(key);
  }

  /** Resolves when no write is running or ready (for tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
    await this.queue.stop();
  }

  /** Writes the status the policy's latest version should have, if it has another; throws what is worth a retry. */
  private async sync(key: string): Promise<void> {
    const p = this.latest.get(key);
    const status = p ? policyStatus(p, this.now()) : undefined;
    if (!p || !status) return;
    try {
      await this.d.client.patchStatus(p, status);
    } catch (e) {
      const kind = classifyApiError(e);
      if (kind === 'transient' || kind === 'conflict') throw e;
      // Gone (deleted meanwhile): nothing to write. Refused: a retry would be refused again.
      if (kind === 'refused') this.d.log.error({ policy: key, err: apiMessage(e) }, 'the API server refused the policy status; it is written again when the policy changes');
    }
  }
}
