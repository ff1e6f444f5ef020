/**
 * The warm helper pool (ADR 41): keeps `size` helper pods waiting on each node
 * where a session was started within the idle lifetime, and hands one to a
 * session that starts there. A claim is one update with the pod's
 * resourceVersion (src/exec/warm-pod.ts): of two claimers only one succeeds,
 * the other tries the next pod or gets a cold helper. Refills run in the
 * background, never inside a reconcile; pool pods nobody claims end by
 * themselves at their idle end and are deleted here (or by the sweep).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { claimOrder, claimedPod, endedPoolPods, isClaimable, poolDeficit, POOL_SELECTOR, warmPod, type ClaimInput } from '../exec/warm-pod.js';
import { apiMessage, classifyApiError } from '../k8s/api-errors.js';
import type { Kube } from '../k8s/kube.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from './collaborators.js';

/** The pool's settings (--warm-helpers, --warm-helper-idle). */
export interface WarmPoolConfig {
  namespace: string;
  image: string;
  pullPolicy: string;
  /** Pool pods per node; 0: no pool. */
  size: number;
  /** How long a pool pod waits for a session, and how long a node counts as recently used. */
  idleMs: number;
}

/** What the reconciler asks of the pool. */
export interface HelperPool {
  /** A pool pod on `node`, now the session's; undefined when none could be claimed (a cold helper then). */
  claim(node: string, c: ClaimInput): Promise<V1Pod | undefined>;
}

export class WarmPool implements HelperPool {
  /** Nodes where a session started, and when last. */
  private readonly recent = new Map<string, number>();
  /** Nodes being refilled, and whether another refill was asked for meanwhile. */
  private readonly refilling = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: Pick<Kube, 'listPods' | 'getPod' | 'createPod' | 'replacePod' | 'deletePod'>,
    private readonly cfg: WarmPoolConfig,
    private readonly log: Logger,
    private readonly now: Clock = () => new Date(),
  ) {}

  /**
   * Claims a pool pod for a session starting on `node`: tries the claimable pods in
   * turn, each with one conditional update. A conflict (another claimer won) or a pod
   * gone moves to the next; an error that leaves unknown whether the write landed is
   * thrown, so the reconcile retries and finds the claim by its label if it did.
   * The node counts as used either way, and is refilled in the background.
   */
  async claim(node: string, c: ClaimInput): Promise<V1Pod | undefined> {
    if (this.cfg.size <= 0) return undefined;
    try {
      const pods = await this.kube.listPods(this.cfg.namespace, POOL_SELECTOR);
      for (const pod of claimOrder(pods, node, c.lastExpiry, this.now(), c.session.uid)) {
        const won = await this.tryClaim(pod, c);
        if (won) return won;
      }
      return undefined;
    } finally {
      this.used(node);
    }
  }

  /**
   * One conditional update: the claimed pod, or undefined when another claimer won it
   * or it is gone or ended. A conflict with a write that did not claim it (the kubelet
   * updates status too) is tried once more on a fresh read.
   */
  private async tryClaim(pod: V1Pod, c: ClaimInput): Promise<V1Pod | undefined> {
    let current: V1Pod | undefined = pod;
    for (let attempt = 0; attempt < 2 && current; attempt++) {
      const claimed = claimedPod(current, c);
      if (!claimed) return undefined;
      try {
        return await this.kube.replacePod(claimed);
      } catch (e) {
        const kind = classifyApiError(e);
        if (kind === 'transient') throw e;
        // notFound: gone; refused: it ended meanwhile; conflict: changed since it was read, perhaps claimed.
        this.log.debug({ pod: pod.metadata?.name, kind, err: apiMessage(e) }, 'warm helper not claimed');
        if (kind !== 'conflict') return undefined;
        const fresh = await this.kube.getPod(this.cfg.namespace, pod.metadata?.name ?? '');
        current = fresh && isClaimable(fresh, pod.spec?.nodeName ?? '', c.lastExpiry, this.now()) ? fresh : undefined;
      }
    }
    return undefined;
  }

  /** A session started on `node`: keep its pool filled for the idle lifetime from now. */
  used(node: string): void {
    if (this.cfg.size <= 0 || !node) return;
    this.recent.set(node, this.now().getTime());
    void this.refill(node);
  }

  /** Starts the periodic refill and clean-up (while this replica leads). */
  start(): void {
    if (this.cfg.size <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.min(10_000, Math.max(1_000, this.cfg.idleMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.recent.clear();
  }

  /** Forgets nodes unused for the idle lifetime (their pods end by themselves), refills the others, deletes ended pool pods. */
  async tick(): Promise<void> {
    const now = this.now().getTime();
    for (const [node, at] of this.recent) {
      if (now - at > this.cfg.idleMs) this.recent.delete(node);
      else void this.refill(node);
    }
    if (this.recent.size > 0) return;
    // Refills delete ended pool pods too; with no node in use, this is the only place that does.
    await this.list().then((pods) => this.deleteEnded(pods)).catch((e: unknown) => {
      this.log.warn({ err: apiMessage(e) }, 'could not clean up the warm helper pool; the next tick retries');
    });
  }

  /** Creates the pool pods `node` lacks, one refill per node at a time (one asked for meanwhile runs after it). */
  async refill(node: string): Promise<void> {
    if (this.refilling.has(node)) {
      this.refilling.set(node, true);
      return;
    }
    this.refilling.set(node, false);
    try {
      do {
        this.refilling.set(node, false);
        const pods = await this.list();
        await this.deleteEnded(pods);
        const missing = poolDeficit(pods, node, this.cfg.size, this.now());
        for (let i = 0; i < missing; i++) await this.create(node);
      } while (this.refilling.get(node));
    } catch (e) {
      this.log.warn({ node, err: apiMessage(e) }, 'could not refill the warm helper pool; the next claim or tick retries');
    } finally {
      this.refilling.delete(node);
    }
  }

  private async list(): Promise<V1Pod[]> {
    return this.kube.listPods(this.cfg.namespace, POOL_SELECTOR);
  }

  private async create(node: string): Promise<void> {
    const pod = warmPod({ namespace: this.cfg.namespace, nodeName: node, image: this.cfg.image, imagePullPolicy: this.cfg.pullPolicy, idleMs: this.cfg.idleMs, now: this.now() });
    const made = await this.kube.createPod(pod);
    this.log.debug({ node, pod: made.metadata?.name }, 'warm helper created');
  }

  private async deleteEnded(pods: V1Pod[]): Promise<void> {
    for (const p of endedPoolPods(pods, this.now())) {
      await this.kube.deletePod(this.cfg.namespace, p.metadata?.name ?? '', 0);
    }
  }
}
