/**
 * Whether a session is recorded, decided in one place: the policy's
 * `recording` when it sets one; else Required under a policy that needs
 * approval (break-glass access is the access someone must be able to review),
 * else BestEffort. The attach relay acts on the result (docs/audit.md).
 */

/** Every value of a policy's `recording` (matches the CRD enum). */
export const RECORDING_MODES = ['Required', 'BestEffort', 'Off'] as const;
/** Required: no recording, no attach (fail closed). BestEffort: record when the store works. Off: never. */
export type RecordingMode = (typeof RECORDING_MODES)[number];

/** What the decision looks at: the allowing policy's setting and whether it needs approval. */
export interface RecordingFacts {
  policyMode?: string;
  approvalsRequired?: number;
}

/** The mode for a session. */
export function recordingMode(f: RecordingFacts): RecordingMode {
  const m = RECORDING_MODES.find((x) => x === f.policyMode);
  if (m) return m;
  return (f.approvalsRequired ?? 0) > 0 ? 'Required' : 'BestEffort';
}

/** A mode as status or a flag spells it, or undefined when it is none. */
export function parseRecordingMode(v: unknown): RecordingMode | undefined {
  return RECORDING_MODES.find((x) => x === v);
}
