/**
 * The narrow interfaces the controller's parts are built from (style.md rule 8):
 * the reconciler, ending and attach get these through their constructors, so a
 * test drives them over fakes (test/support/fake-kube.ts, fake-helpers.ts) and
 * the integration tier over the real API server, without the operator process.
 */
import type { SessionAuthorizer } from '../authz/authorizer.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { Kube } from '../k8s/kube.js';
import type { Logger } from '../log/logger.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import type { NodeSlots } from './node-slots.js';
import type { HelperPool } from './warm-pool.js';
import type { ControllerConfig } from './types.js';
import type { Auditor } from '../audit/auditor.js';
import type { JobRecordings } from './job-recording.js';

export type { SessionAuthorizer };

/** What the controller asks of a session's helper pod (exec/helper-client.ts is the real one). */
export type SessionHelpers = Pick<HelperClient, 'inspect' | 'startJob' | 'startArgv' | 'attachArgv' | 'waitJob' | 'readJobBlock' | 'retire' | 'setDeadline'>;

/** The time: a seam, so tests move it instead of waiting. */
export type Clock = () => Date;

/** What the reconciler and ending observe in metrics (src/metrics). */
export type SessionMetrics = Pick<OperatorMetrics, 'sessionReady' | 'sessionExpired' | 'denied'>;

/** Everything a Reconciler is built from. */
export interface ReconcilerDeps {
  kube: Kube;
  helpers: SessionHelpers;
  authorizer: SessionAuthorizer;
  config: ControllerConfig;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: nothing is observed. */
  metrics?: SessionMetrics;
  /** Where lifecycle steps are audited (src/audit); default: nowhere. */
  audit?: Pick<Auditor, 'emit'>;
  /** Recordings of one-shot commands (ADR 43); default: none are recorded. */
  recordings?: JobRecordings;
  /** Inspection slots per node (ADR 40); default: INSPECTIONS_PER_NODE, and waiters are not woken (only requeued). */
  inspections?: NodeSlots;
  /** Since when this operator acts on sessions (epoch ms: it leads, or started without election); default: unknown. */
  actingSince?: () => number | undefined;
  /** Waits (real time); a seam for tests. Default: setTimeout. */
  pause?: (ms: number) => Promise<void>;
  /** The warm helper pool (ADR 41); default: none, every helper is created for its session. */
  pool?: HelperPool;
}
