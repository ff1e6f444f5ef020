/** Settings and seams shared by the controller's parts. */
import type { RuntimePaths } from '../exec/helper-client.js';

/** The controller's settings (see src/config.ts for their flags and defaults). */
export interface ControllerConfig {
  /** Namespace of helper pods and the leader Lease. */
  namespace: string;
  helperImage: string;
  helperPullPolicy: string;
  runtimePaths: RuntimePaths;
  /** auto: the runtime backend where the node's runtime state is found, else nsenter. */
  backend: 'auto' | 'runtime' | 'nsenter';
  /** How long ended sessions are kept before they are deleted. */
  retentionMs: number;
  /** How long a helper pod may take to run before the session fails. */
  startTimeoutMs: number;
  /** Bytes of stdout and of stderr kept in status.result. */
  outputLimit: number;
  /** Warm helper pods per recently used node (--warm-helpers, ADR 41); 0 or absent: none. */
  warmHelpers?: number;
  /** How long a warm helper waits for a session (--warm-helper-idle). */
  warmHelperIdleMs?: number;
  /** Bytes of a recorded one-shot command's stdout and of its stderr the helper keeps, for its recording (ADR 43). */
  recordedOutputLimit: number;
  /** API server URL users reach, for status.attach.url. */
  publicServer?: string;
  /** Verifies requester stamps; a session whose stamp does not verify never starts. */
  stampKey: () => Buffer;
}
