/**
 * Whether a session is recorded, decided in one place: the policy's
 * `recording` when it sets one; else Required under a policy that needs
 * approval (break-glass access is the access someone must be able to review),
 * else BestEffort. The attach relay acts on the result (docs/audit.md).
 */

import { RECORDING_MODES, type RecordingMode, type SessionRecording } from '../api/types.js';

export { RECORDING_MODES, type RecordingMode };

/** What the decision looks at: the allowing policy's setting and whether it needs approval. */
export interface RecordingFacts {
  policyMode?: string;
  approvalsRequired?: number;
  recordInput?: boolean;
}

/** The mode for a session. */
export function recordingMode(f: RecordingFacts): RecordingMode {
  const m = RECORDING_MODES.find((x) => x === f.policyMode);
  if (m) return m;
  return (f.approvalsRequired ?? 0) > 0 ? 'Required' : 'BestEffort';
}

/** What status.recording says for a session under a policy. */
export function sessionRecording(f: RecordingFacts): SessionRecording {
  const mode = recordingMode(f);
  return mode !== 'Off' && f.recordInput ? { mode, input: true } : { mode };
}

/** A mode as status or a flag spells it, or undefined when it is none. */
export function parseRecordingMode(v: unknown): RecordingMode | undefined {
  return RECORDING_MODES.find((x) => x === v);
}
