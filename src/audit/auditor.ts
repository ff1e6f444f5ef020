/**
 * Emits audit events: each on the operator's log stream (one JSON line, msg
 * "audit", the event under `audit`), and to the configured sink. Emitting never
 * blocks or fails the step that emits: sink writes go one at a time behind the
 * caller (so a sink keeps the order they were emitted in), and a write that
 * fails is logged and counted in execsession_audit_failures_total{sink}.
 */
import type { Logger } from '../log/logger.js';
import type { AuditEvent } from './event.js';
import type { AuditSink } from './sinks.js';

/** Where failures are counted (src/metrics). */
export interface AuditMetrics {
  auditFailed(sink: string): void;
}

/** Writes waiting for a slow sink beyond this many are dropped (counted), so memory stays bounded. */
const MAX_PENDING = 10_000;

/** How the Auditor is set up: `--audit-sink` (none: nothing is written, not even to the log). */
export interface AuditorOptions {
  log: Logger;
  /** Write each event to the log (every sink but `none`). */
  toLog: boolean;
  /** The sink besides the log, if any. */
  sink?: AuditSink;
  metrics?: AuditMetrics;
}

/** The one emitter the controller, the webhook and the aggregated API share. */
export class Auditor {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly o: AuditorOptions) {}

  /** An Auditor that writes nothing (tests, --audit-sink=none). */
  static none(log: Logger): Auditor {
    return new Auditor({ log, toLog: false });
  }

  /** Emits one event; returns at once. */
  emit(e: AuditEvent): void {
    if (this.o.toLog) {
      try {
        this.o.log.info({ audit: e }, 'audit');
      } catch (err) {
        this.failed('log', e, err);
      }
    }
    const sink = this.o.sink;
    if (!sink) return;
    if (this.pending >= MAX_PENDING) {
      this.failed(sink.kind, e, new Error(`${MAX_PENDING} events already wait for the sink`));
      return;
    }
    this.pending += 1;
    this.chain = this.chain
      .then(() => sink.write(e))
      .catch((err: unknown) => this.failed(sink.kind, e, err))
      .finally(() => { this.pending -= 1; });
  }

  /** Resolves once every event emitted so far was written or counted as failed. */
  flush(): Promise<void> {
    return this.chain;
  }

  private failed(kind: string, e: AuditEvent, err: unknown): void {
    this.o.metrics?.auditFailed(kind);
    try {
      this.o.log.warn({ sink: this.o.sink?.description ?? kind, auditId: e.id, type: e.type, err: err instanceof Error ? err.message : String(err) }, 'audit event not written');
    } catch {
      // A log that throws cannot be told about itself.
    }
  }
}
