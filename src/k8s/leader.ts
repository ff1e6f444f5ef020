/**
 * Leader election on a coordination.k8s.io Lease, so that two replicas never
 * both act. A replica leads while it renews the Lease; another takes over only
 * after the Lease has gone unrenewed for its whole duration. Writes carry the
 * Lease's resourceVersion, so two candidates can never both win one round.
 * A restarted process with the same identity (a restarted pod keeps its name)
 * takes its Lease back at once instead of waiting for it to lapse.
 */
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import { classifyApiError } from './api-errors.js';
import type { Kube } from './kube.js';

/** Election settings. */
export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  retryMs: number;
}

/** Is the Lease free for `identity` at `now`? Pure, for unit tests. */
export function canAcquire(lease: V1Lease, identity: string, now: Date): boolean {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity || spec.holderIdentity === identity) return true;
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  return renewed + (spec.leaseDurationSeconds ?? 15) * 1000 < now.getTime();
}

export class LeaderElector {
  private leading = false;
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly opts: LeaderOptions,
    private readonly callbacks: { onStartedLeading: () => Promise<void> | void; onStoppedLeading: () => Promise<void> | void },
    private readonly log: Logger,
  ) {}

  /** Campaigns and renews until stop(). */
  async run(): Promise<void> {
    let lastRenew = 0;
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew().catch((e: unknown) => {
        this.log.warn({ err: String(e) }, 'lease update failed');
        return false;
      });
      if (ok) lastRenew = Date.now();
      if (ok && !this.leading) {
        this.leading = true;
        this.log.info({ identity: this.opts.identity, lease: `${this.opts.namespace}/${this.opts.name}` }, 'became leader');
        await this.callbacks.onStartedLeading();
      } else if (!ok && this.leading && Date.now() - lastRenew > this.opts.leaseDurationMs) {
        this.leading = false;
        this.log.warn({ identity: this.opts.identity }, 'lost leadership; stopping work');
        await this.callbacks.onStoppedLeading();
      }
      await sleep(this.opts.retryMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.leading) {
      this.leading = false;
      await this.callbacks.onStoppedLeading();
      // Give the Lease up so a successor need not wait for it to lapse.
      await this.release().catch(() => undefined);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const { namespace, name, identity } = this.opts;
    const existing = await this.kube.getLease(namespace, name);
    // MicroTime must be written with exactly six fractional digits.
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000), renewTime: new V1MicroTime(now.getTime()) };
    if (!existing) {
      await this.kube.createLease({ metadata: { name, namespace }, spec: { ...spec, acquireTime: spec.renewTime, leaseTransitions: 0 } });
      return true;
    }
    if (!canAcquire(existing, identity, now)) return false;
    const changed = existing.spec?.holderIdentity !== identity;
    const next: V1Lease = {
      ...existing,
      spec: {
        ...existing.spec,
        acquireTime: existing.spec?.acquireTime ? new V1MicroTime(new Date(existing.spec.acquireTime).getTime()) : spec.renewTime,
        ...spec,
        ...(changed ? { acquireTime: spec.renewTime, leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      await this.kube.replaceLease(next);
      return true;
    } catch (e) {
      if (classifyApiError(e) === 'conflict') return false;
      throw e;
    }
  }

  private async release(): Promise<void> {
    const lease = await this.kube.getLease(this.opts.namespace, this.opts.name);
    if (lease?.spec?.holderIdentity !== this.opts.identity) return;
    await this.kube.replaceLease({ ...lease, spec: { leaseDurationSeconds: lease.spec.leaseDurationSeconds, leaseTransitions: lease.spec.leaseTransitions } });
  }
}
