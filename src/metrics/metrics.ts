/**
 * The operator's Prometheus metrics, in one registry per process (docs/audit.md
 * lists each one). Names follow controller-runtime's where they mean the same,
 * so dashboards and alerts written for Go operators work unchanged; the rest
 * carry the `execsession_` prefix. A leaf: the parts that observe something
 * (work queue, reconciler, webhook, attach relay) get this object through their
 * constructors and call its methods; they never touch prom-client themselves.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
import { PHASES } from '../api/types.js';

/** controller-runtime's values of `controller_runtime_reconcile_total{result}`. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** Where a session was refused: at admission, by the controller (start, resolution, approvals), or at attach. */
export type DenialStage = 'admission' | 'controller' | 'attach';

/** What a work queue reports; src/controller/queue.ts takes exactly this shape. */
export interface QueueMetrics {
  /** A key was queued (not counted when it was already waiting). */
  added(): void;
  /** Keys waiting or in work now. */
  depth(n: number): void;
  /** How long a key waited between being queued and a worker taking it. */
  waited(seconds: number): void;
  /** How long one worker call took. */
  worked(seconds: number): void;
  /** A failed key was put back with backoff. */
  retried(): void;
}

// Seconds: a reconcile is a few API calls, a session starts in seconds (a pull may take minutes).
const FAST_BUCKETS = exponentialBuckets(0.001, 4, 9); // 1 ms .. 65 s
const START_BUCKETS = [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300];
const LATENESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly queueDepth: Gauge<'name' | 'controller'>;
  private readonly queueAdds: Counter<'name' | 'controller'>;
  private readonly queueDuration: Histogram<'name' | 'controller'>;
  private readonly workDuration: Histogram<'name' | 'controller'>;
  private readonly queueRetries: Counter<'name' | 'controller'>;
  private readonly createToReady: Histogram;
  private readonly expiryLateness: Histogram;
  private readonly denials: Counter<'stage' | 'reason'>;
  private readonly approvals: Counter<'decision'>;
  private readonly attaches: Counter<'result'>;
  private readonly attachBytes: Counter<'direction'>;
  private readonly recordingFailures: Counter<'store'>;
  private readonly auditFailures: Counter<'sink'>;
  /** Counts sessions by phase when scraped; set by the controller while it leads. */
  private phaseSource: (() => ReadonlyMap<string, number>) | undefined;

  /** `process: true` adds prom-client's process and Node.js metrics (the operator does; tests need not). */
  constructor(opts: { process?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.process) this.addProcessMetrics();
    this.reconciles = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers });
    this.reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: FAST_BUCKETS, registers });
    const q = ['name', 'controller'] as const;
    this.queueDepth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: q, registers });
    this.queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: q, registers });
    this.queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames: q, buckets: FAST_BUCKETS, registers });
    this.workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames: q, buckets: FAST_BUCKETS, registers });
    this.queueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: q, registers });
    const phases = this.phaseCounts.bind(this);
    new Gauge({
      name: 'execsession_sessions', help: 'ExecSessions by phase, as the leading replica last saw them (0 on other replicas)', labelNames: ['phase'], registers,
      collect() {
        const counts = phases();
        for (const phase of PHASES) this.set({ phase }, counts.get(phase) ?? 0);
      },
    });
    this.createToReady = new Histogram({ name: 'execsession_create_to_ready_seconds', help: 'Seconds from an interactive session\'s creation to its Ready phase', buckets: START_BUCKETS, registers });
    this.expiryLateness = new Histogram({ name: 'execsession_expiry_lateness_seconds', help: 'Seconds between a session\'s status.expiresAt and the operator ending it Expired', buckets: LATENESS_BUCKETS, registers });
    this.denials = new Counter({ name: 'execsession_denials_total', help: 'Sessions refused, by where (admission, controller, attach) and reason', labelNames: ['stage', 'reason'], registers });
    this.approvals = new Counter({ name: 'execsession_approvals_total', help: 'Approvals given (approved) and refused (denied) through the approve and deny subresources', labelNames: ['decision'], registers });
    this.attaches = new Counter({ name: 'execsession_attaches_total', help: 'Attaches started, and refused by the aggregated API', labelNames: ['result'], registers });
    this.attachBytes = new Counter({ name: 'execsession_attach_bytes_total', help: 'Bytes relayed by attaches: in (from the user to the session), out (from the session to the user)', labelNames: ['direction'], registers });
    this.recordingFailures = new Counter({ name: 'execsession_recording_failures_total', help: 'Session recordings that could not be written, by store', labelNames: ['store'], registers });
    this.auditFailures = new Counter({ name: 'execsession_audit_failures_total', help: 'Audit events that could not be written, by sink', labelNames: ['sink'], registers });
    // Series that alerts compare against exist from the start, at 0.
    for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) this.reconciles.inc({ controller: 'execsession', result }, 0);
    this.reconcileErrors.inc({ controller: 'execsession' }, 0);
    for (const decision of ['approved', 'denied']) this.approvals.inc({ decision }, 0);
    for (const result of ['started', 'refused']) this.attaches.inc({ result }, 0);
    for (const direction of ['in', 'out']) this.attachBytes.inc({ direction }, 0);
  }

  /**
   * prom-client's process_* and nodejs_* metrics, less its gauges named `..._total`
   * (nodejs_active_handles_total, ...): Prometheus reserves that suffix for
   * counters, and `promtool check metrics` refuses them.
   */
  private addProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
    for (const m of this.registry.getMetricsAsArray()) {
      const { name, type } = m as unknown as { name: string; type: string };
      if (name.endsWith('_total') && type !== 'counter') this.registry.removeSingleMetric(name);
    }
  }

  private phaseCounts(): ReadonlyMap<string, number> {
    return this.phaseSource?.() ?? new Map();
  }

  /** Where `execsession_sessions` reads its counts; undefined reads zeros (a replica that does not lead). */
  countPhasesWith(source: (() => ReadonlyMap<string, number>) | undefined): void {
    this.phaseSource = source;
  }

  /** One reconcile of `controller` ended with `result` after `seconds`. */
  reconciled(controller: string, result: ReconcileResult, seconds: number): void {
    this.reconciles.inc({ controller, result });
    if (result === 'error') this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }

  /** The metrics of the work queue `name` (its controller's name, as in controller-runtime). */
  queue(name: string): QueueMetrics {
    const labels = { name, controller: name };
    this.queueDepth.set(labels, 0);
    this.queueAdds.inc(labels, 0);
    this.queueRetries.inc(labels, 0);
    return {
      added: () => this.queueAdds.inc(labels),
      depth: (n) => this.queueDepth.set(labels, n),
      waited: (s) => this.queueDuration.observe(labels, s),
      worked: (s) => this.workDuration.observe(labels, s),
      retried: () => this.queueRetries.inc(labels),
    };
  }

  /** An interactive session became Ready this many seconds after it was created. */
  sessionReady(secondsSinceCreated: number): void {
    if (!Number.isFinite(secondsSinceCreated)) return;
    this.createToReady.observe(Math.max(0, secondsSinceCreated));
  }

  /** A session was ended Expired this many seconds after its expiresAt. */
  sessionExpired(secondsLate: number): void {
    if (!Number.isFinite(secondsLate)) return;
    this.expiryLateness.observe(Math.max(0, secondsLate));
  }

  /** A session was refused. */
  denied(stage: DenialStage, reason: string): void {
    this.denials.inc({ stage, reason });
  }

  /** An approver approved or denied a session. */
  approval(decision: 'approved' | 'denied'): void {
    this.approvals.inc({ decision });
  }

  /** An attach started, or the aggregated API refused one. */
  attach(result: 'started' | 'refused'): void {
    this.attaches.inc({ result });
  }

  /** Bytes an attach relayed. */
  attachRelayed(direction: 'in' | 'out', bytes: number): void {
    if (bytes > 0) this.attachBytes.inc({ direction }, bytes);
  }

  /** An audit event could not be written to `sink` (log, file, recording). */
  auditFailed(sink: string): void {
    this.auditFailures.inc({ sink });
  }

  /** A recording could not be written to `store`. */
  recordingFailed(store: string): void {
    this.recordingFailures.inc({ store });
  }

  /** The text exposition format and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
