/**
 * Where audit events go besides the log: a directory of JSON Lines files, or
 * the recording store (next to the session's recordings). Each sink takes one
 * event at a time; the Auditor (auditor.ts) orders and counts their failures.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingStore } from '../recording/store.js';
import type { AuditEvent } from './event.js';

/** A place audit events are written to. */
export interface AuditSink {
  /** The metrics label: `file`, `recording`. */
  readonly kind: string;
  /** How the sink is named in the log, e.g. `file:/var/log/execsession-audit`. */
  readonly description: string;
  /** Writes one event; rejects when it could not. */
  write(e: AuditEvent): Promise<void>;
}

/** The day file an event goes to: `audit-YYYY-MM-DD.jsonl`, by the event's time (UTC). */
export function auditFileName(e: Pick<AuditEvent, 'time'>): string {
  const day = /^\d{4}-\d{2}-\d{2}/.exec(e.time)?.[0] ?? new Date().toISOString().slice(0, 10);
  return `audit-${day}.jsonl`;
}

/**
 * `--audit-sink=file`: one JSON line per event appended to DIR/audit-YYYY-MM-DD.jsonl
 * (one file per UTC day, so a shipper or logrotate can take whole days). Each line
 * is one append (O_APPEND): replicas sharing a volume do not interleave within a line.
 */
export class FileAuditSink implements AuditSink {
  readonly kind = 'file';
  readonly description: string;
  private made = false;

  constructor(private readonly dir: string) {
    this.description = `file:${dir}`;
  }

  async write(e: AuditEvent): Promise<void> {
    if (!this.made) {
      await mkdir(this.dir, { recursive: true });
      this.made = true;
    }
    await appendFile(join(this.dir, auditFileName(e)), `${JSON.stringify(e)}\n`);
  }
}

/**
 * `--audit-sink=recording`: the session's events beside its recordings, in the
 * recording store (file: NAMESPACE/NAME/UID/audit.jsonl; s3: one object per event).
 * A refusal at admission has no session uid, so no place there: it goes to the log only.
 */
export class RecordingAuditSink implements AuditSink {
  readonly kind = 'recording';
  readonly description: string;

  constructor(private readonly store: RecordingStore) {
    this.description = `recording:${store.description}`;
  }

  async write(e: AuditEvent): Promise<void> {
    if (!e.session.uid) return;
    await this.store.appendAudit({ namespace: e.session.namespace, name: e.session.name, uid: e.session.uid }, e.id, JSON.stringify(e));
  }
}
