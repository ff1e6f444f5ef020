/**
 * The Auditor that --audit-sink names (main.ts wires it): log (the default),
 * file (the log and --audit-dir), recording (the log and the recording store),
 * none (nothing).
 */
import type { AuditConfig } from '../config.js';
import type { ApiConfig } from '../apiserver/aggregated.js';
import { recordingStore } from '../apiserver/aggregated.js';
import type { Logger } from '../log/logger.js';
import { Auditor, type AuditMetrics } from './auditor.js';
import { FileAuditSink, RecordingAuditSink, type AuditSink } from './sinks.js';

/** The sink besides the log, if any. */
async function sinkFor(cfg: AuditConfig, recording: ApiConfig['recording']): Promise<AuditSink | undefined> {
  if (cfg.sink === 'file') return new FileAuditSink(cfg.dir);
  if (cfg.sink !== 'recording') return undefined;
  const store = await recordingStore(recording);
  return store ? new RecordingAuditSink(store) : undefined;
}

/** Builds the Auditor of the configuration and says where events go. */
export async function auditorFor(cfg: AuditConfig, recording: ApiConfig['recording'], log: Logger, metrics: AuditMetrics): Promise<Auditor> {
  if (cfg.sink === 'none') return Auditor.none(log);
  const sink = await sinkFor(cfg, recording);
  log.info({ sink: sink?.description ?? 'log' }, 'audit events: the log' + (sink ? ` and ${sink.description}` : ''));
  return new Auditor({ log, toLog: true, sink, metrics });
}
