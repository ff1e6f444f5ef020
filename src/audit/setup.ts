/**
 * The Auditor that --audit-sink names (main.ts wires it): log (the default),
 * file (the log and --audit-dir), recording (the log and the recording store),
 * none (nothing).
 */
import type { Logger } from '../log/logger.js';
import type { RecordingStore } from '../recording/store.js';
import { Auditor, type AuditMetrics } from './auditor.js';
import { FileAuditSink, RecordingAuditSink, type AuditSink } from './sinks.js';

/** --audit-sink and --audit-dir, as src/config.ts reads them. */
export interface AuditConfig {
  sink: 'log' | 'file' | 'recording' | 'none';
  dir: string;
}

/** The sink besides the log, if any; `store` makes the recording store (--recording-*). */
async function sinkFor(cfg: AuditConfig, store: () => Promise<RecordingStore | undefined>): Promise<AuditSink | undefined> {
  if (cfg.sink === 'file') return new FileAuditSink(cfg.dir);
  if (cfg.sink !== 'recording') return undefined;
  const made = await store();
  return made ? new RecordingAuditSink(made) : undefined;
}

/** Builds the Auditor of the configuration and says where events go. */
export async function auditorFor(cfg: AuditConfig, store: () => Promise<RecordingStore | undefined>, log: Logger, metrics: AuditMetrics): Promise<Auditor> {
  if (cfg.sink === 'none') return Auditor.none(log);
  const sink = await sinkFor(cfg, store);
  log.info({ sink: sink?.description ?? 'log' }, 'audit events: the log' + (sink ? ` and ${sink.description}` : ''));
  return new Auditor({ log, toLog: true, sink, metrics });
}
