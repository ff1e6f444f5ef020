/**
 * The running controller: while leading, it watches ExecSessions and helper
 * pods, turns every event into a key on the work queue, reconciles keys, and
 * sweeps helper pods whose session is gone.
 */
import { randomUUID } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import { Authorizer } from '../authz/authorizer.js';
import { HelperClient } from '../exec/helper-client.js';
import { ANNOTATION_SESSION_NAME, ANNOTATION_SESSION_NAMESPACE, LABEL_COMPONENT, LABEL_SESSION_UID } from '../exec/helper-pod.js';
import { apiMessage, classifyApiError } from '../k8s/api-errors.js';
import type { Kube } from '../k8s/kube.js';
import { LeaderElector, type LeaderOptions } from '../k8s/leader.js';
import { Watcher } from '../k8s/watcher.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import type { Auditor } from '../audit/auditor.js';
import { LABEL_POOL, POOL_WARM, endedPoolPods } from '../exec/warm-pod.js';
import type { RecordingStore } from '../recording/store.js';
import { JobRecordings } from './job-recording.js';
import { measured } from './measured.js';
import { INSPECTIONS_PER_NODE, NodeSlots } from './node-slots.js';
import { PhaseTally } from './phase-tally.js';
import { PolicyStatusWriter, kubePolicyStatusClient } from './policy-status.js';
import { WorkQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import { watchRbac } from './rbac-watch.js';
import { Redecider } from './redecide.js';
import { WarmPool } from './warm-pool.js';
import type { Logger } from '../log/logger.js';
import { withLogContext } from '../log/context.js';
import type { ControllerConfig } from './types.js';

const HELPER_SELECTOR = `${LABEL_COMPONENT}=execsession-helper`;
const SWEEP_EVERY_MS = 60_000;

/** Everything the controller is built from. */
export interface ControllerDeps {
  kc: KubeConfig;
  kube: Kube;
  config: ControllerConfig;
  leader: LeaderOptions | undefined;
  concurrency: number;
  log: Logger;
  metrics: OperatorMetrics;
  /** Where lifecycle steps are audited (src/audit). */
  audit?: Auditor;
  /** Where one-shot commands are recorded (ADR 43); undefined: --recording-store=none. */
  recordings?: RecordingStore;
}

/** The controller's name in metrics (controller_runtime_*{controller}, workqueue_*{name}). */
export const CONTROLLER_NAME = 'execsession';

/** The `namespace/name` key of the session a helper pod serves, from its annotations. */
function sessionKeyOf(pod: V1Pod): string | undefined {
  const a = pod.metadata?.annotations ?? {};
  return a[ANNOTATION_SESSION_NAMESPACE] && a[ANNOTATION_SESSION_NAME] ? `${a[ANNOTATION_SESSION_NAMESPACE]}/${a[ANNOTATION_SESSION_NAME]}` : undefined;
}

export class Controller {
  private queue: WorkQueue | undefined;
  private watchers: Watcher[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private policyStatus: PolicyStatusWriter | undefined;
  private elector: LeaderElector | undefined;
  private redecider: Redecider | undefined;
  private readonly reconciler: Reconciler;
  private readonly helpers: HelperClient;
  private readonly phases = new PhaseTally();
  private readonly pool: WarmPool | undefined;
  /** When this replica began to act on sessions (it leads, or runs without election): epoch ms. */
  private actingSince: number | undefined;

  constructor(private readonly d: ControllerDeps) {
    this.helpers = new HelperClient(d.kube, d.config.runtimePaths);
    // A session waiting for an inspection slot goes back on the queue when one frees (ADR 40).
    const inspections = new NodeSlots(INSPECTIONS_PER_NODE, (key) => this.queue?.add(key));
    const c = d.config;
    // Default off (--warm-helpers 0): every helper is created for its session.
    this.pool = (c.warmHelpers ?? 0) > 0
      ? new WarmPool(d.kube, { namespace: c.namespace, image: c.helperImage, pullPolicy: c.helperPullPolicy, size: c.warmHelpers ?? 0, idleMs: c.warmHelperIdleMs ?? 600_000 }, d.log)
      : undefined;
    const recordings = new JobRecordings({ store: d.recordings, stampKey: c.stampKey, log: d.log, now: () => new Date(), audit: d.audit, failed: (kind) => d.metrics.recordingFailed(kind) });
    this.reconciler = new Reconciler({ kube: d.kube, helpers: this.helpers, authorizer: new Authorizer(d.kube), config: c, log: d.log, metrics: d.metrics, audit: d.audit, inspections, pool: this.pool, recordings,
      actingSince: () => this.actingSince });
  }

  /** Campaigns for leadership (or starts at once without it). */
  async start(): Promise<void> {
    if (!this.d.leader) {
      await this.startWork();
      return;
    }
    this.elector = new LeaderElector(this.d.kube, this.d.leader, { onStartedLeading: () => this.startWork(), onStoppedLeading: () => this.stopWork() }, this.d.log);
    void this.elector.run();
  }

  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    else await this.stopWork();
  }

  private async startWork(): Promise<void> {
    const { kc, log, metrics } = this.d;
    this.actingSince = Date.now();
    // Each reconcile's log lines carry its ID and its session's namespace and name (as controller-runtime's do).
    const reconcile = (key: string): ReturnType<Reconciler['reconcile']> => {
      const [namespace, name] = key.split('/');
      return withLogContext({ reconcileID: randomUUID(), namespace, name }, () => this.reconciler.reconcile(key));
    };
    const queue = new WorkQueue(measured(CONTROLLER_NAME, reconcile, metrics), {
      concurrency: this.d.concurrency, metrics: metrics.queue(CONTROLLER_NAME),
      onError: (key, err, retry) => log.warn({ session: key, err: apiMessage(err), class: classifyApiError(err), retryInMs: retry }, 'reconcile failed; will retry'),
    });
    this.queue = queue;
    // Waiting sessions are decided again when a policy or RBAC changes, not on a timer (ADR 35).
    const redecider = new Redecider((key) => queue.add(key));
    this.redecider = redecider;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const sessions = new Watcher(kc, {
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as never,
      onObject: (type, obj) => {
        this.phases.observe(type, obj);
        redecider.session(type, obj);
        queue.add(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
      },
      onList: (objs) => {
        this.phases.relisted(objs);
        redecider.sessionsListed(objs);
      },
    }, log);
    const helpers = new Watcher(kc, {
      path: `/api/v1/namespaces/${this.d.config.namespace}/pods`,
      query: { labelSelector: HELPER_SELECTOR },
      list: async () => (await core.listNamespacedPod({ namespace: this.d.config.namespace, labelSelector: HELPER_SELECTOR })) as never,
      onObject: (_type, obj) => {
        const key = sessionKeyOf(obj as V1Pod);
        if (key) queue.add(key);
      },
    }, log);
    this.watchers = [sessions, helpers];
    await Promise.all(this.watchers.map((w) => w.start()));
    metrics.countPhasesWith(() => this.phases.counts());
    let policiesListed = false;
    this.policyStatus = new PolicyStatusWriter({
      client: kubePolicyStatusClient(kc), log, queue: { metrics: metrics.queue('execpolicy-status') },
      onPolicy: (type, p) => redecider.policy(type, p.kind, p, !policiesListed),
    });
    await this.policyStatus.start(kc);
    policiesListed = true;
    this.watchers.push(...(await watchRbac(kc, redecider, log)));
    await this.sweep();
    this.pool?.start();
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    log.info({ namespace: this.d.config.namespace }, 'controller started');
  }

  private async stopWork(): Promise<void> {
    // A replica that no longer leads no longer knows the phases: it reports zeros, as one that never led.
    this.d.metrics.countPhasesWith(undefined);
    this.phases.clear();
    await this.policyStatus?.stop();
    for (const w of this.watchers) w.stop();
    this.watchers = [];
    this.redecider?.stop();
    this.pool?.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.queue?.stop();
  }

  /** Deletes helper pods whose session no longer exists (or is another object of the same name). */
  async sweep(): Promise<number> {
    let swept = 0;
    const pods = await this.d.kube.listPods(this.d.config.namespace, HELPER_SELECTOR).catch((e: unknown) => {
      this.d.log.warn({ err: String(e) }, 'could not list helper pods; the next sweep retries');
      return [] as V1Pod[];
    });
    for (const pod of pods) {
      // A warm helper no session has claimed is the pool's (warm-pool.ts); here only once it has ended.
      if (pod.metadata?.labels?.[LABEL_POOL] === POOL_WARM && !pod.metadata.labels[LABEL_SESSION_UID]) {
        if (endedPoolPods([pod], new Date()).length === 0) continue;
        await this.d.kube.deletePod(this.d.config.namespace, pod.metadata.name ?? '', 0);
        swept++;
        continue;
      }
      const [namespace = '', name = ''] = (sessionKeyOf(pod) ?? '').split('/');
      const session = namespace && name ? await this.d.kube.getSession(namespace, name) : undefined;
      if (session && session.metadata.uid === pod.metadata?.labels?.[LABEL_SESSION_UID]) continue;
      const killed = await this.helpers.retire(pod);
      this.d.log.info({ helper: pod.metadata?.name, killed }, 'deleted orphaned helper pod');
      swept++;
    }
    return swept;
  }
}
