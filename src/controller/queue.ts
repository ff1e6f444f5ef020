/**
 * A level-triggered work queue of keys (`namespace/name`), as in client-go:
 * a key waits at most once however many events name it; one key is never worked
 * on by two workers at once (a key added while in work is worked again after);
 * delayed adds keep the earliest time; failures back off exponentially per key.
 */
import type { QueueMetrics } from '../metrics/metrics.js';

/** What a worker says about a key it reconciled. */
export interface Outcome {
  /** Reconcile the key again after this many milliseconds. */
  requeueAfterMs?: number;
}

/** Reconciles one key. Throwing means a transient failure: retried with backoff. */
export type Worker = (key: string) => Promise<Outcome | void>;

/** Queue settings; the clock and timers are seams for tests. */
export interface QueueOptions {
  concurrency: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
  now?: () => number;
  /** Adds, depth, wait and work times, retries (src/metrics: controller-runtime's workqueue_* metrics). */
  metrics?: QueueMetrics;
}

/** The longest delay setTimeout takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  /** When each waiting key was queued, for the time it waited. */
  private readonly queuedAt = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly worker: Worker, private readonly opts: QueueOptions) {}

  /** Queues the key now. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queuedAt.set(key, this.now());
    this.ready.push(key);
    this.opts.metrics?.added();
    this.pump();
  }

  /** Queues the key after a delay; an earlier pending delay wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    // setTimeout fires at once for anything above 2^31-1 ms (~24.8 days): wait that long, and look again then.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    const at = this.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Stops taking work; resolves when running workers are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.ready.length = 0;
    this.queued.clear();
    this.queuedAt.clear();
    this.reportDepth();
    await this.idle();
  }

  /** Resolves when no worker runs and nothing is ready. */
  idle(): Promise<void> {
    if (this.running === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Keys waiting or in work, for metrics and tests. */
  get depth(): number {
    return this.queued.size + this.active.size;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.queued.delete(key);
      this.opts.metrics?.waited((this.now() - (this.queuedAt.get(key) ?? this.now())) / 1000);
      this.queuedAt.delete(key);
      this.active.add(key);
      this.running++;
      void this.work(key);
    }
    this.reportDepth();
    if (this.running === 0 && this.ready.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private reportDepth(): void {
    this.opts.metrics?.depth(this.depth);
  }

  private async work(key: string): Promise<void> {
    const started = this.now();
    try {
      const outcome = await this.worker(key);
      this.failures.delete(key);
      if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } catch (e) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min((this.opts.baseBackoffMs ?? 200) * 2 ** (n - 1), this.opts.maxBackoffMs ?? 60_000);
      this.opts.onError?.(key, e, delay);
      this.opts.metrics?.retried();
      this.addAfter(key, delay);
    } finally {
      this.opts.metrics?.worked((this.now() - started) / 1000);
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
