/**
 * What a finished session means for the CLI: a one-off command's recorded
 * result as output and exit code, an ended session's message, and the one-line
 * answers of the actions. Pure, so unit-tested without a cluster.
 */
import { formatDuration, parseDuration } from '../api/duration.js';
import type { ExecSession } from '../api/types.js';
import { relativeTime } from './format.js';
import { ref } from './sessions.js';

/** What the CLI prints and how it exits after a one-off command. */
export interface RunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Lines of the CLI's own, for stderr after the command's output. */
  notes: string[];
}

/** `execsession ns/name is Denied: <message>`: why a session is not usable. */
export function endedMessage(s: ExecSession): string {
  const phase = s.status?.phase ?? 'Pending';
  const message = s.status?.message ? `: ${s.status.message}` : '';
  return `execsession ${ref(s)} is ${phase}${message}`;
}

/**
 * The recorded result of a one-off command (status.result): its stdout and
 * stderr, its exit code, and a warning when the output was cut. A session that
 * ended without a result (refused, failed to start, expired) exits 1 with its message.
 */
export function runOutcome(s: ExecSession): RunOutcome {
  const r = s.status?.result;
  if (!r || typeof r.exitCode !== 'number') {
    return { stdout: '', stderr: '', exitCode: 1, notes: [endedMessage(s)] };
  }
  const notes: string[] = [];
  if (r.truncated) notes.push(truncationNote(s));
  const phase = s.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') notes.push(endedMessage(s));
  const exitCode = Number.isInteger(r.exitCode) && r.exitCode >= 0 && r.exitCode < 256 ? r.exitCode : 1;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode, notes };
}

/** Where the rest of a cut output is: the session's recording when it is recorded (ADR 43), else nowhere. */
function truncationNote(s: ExecSession): string {
  const where = `${s.metadata.name} -n ${s.metadata.namespace}`;
  const recorded = s.status?.recording?.mode && s.status.recording.mode !== 'Off';
  return recorded
    ? `warning: the output was truncated to the operator's size limit; the whole output is in the session's recording: "kubectl execsession replay ${where} -o cast" (needs get on execsessions/recording)`
    : `warning: the output was truncated to the operator's size limit; "kubectl execsession get ${where} -o yaml" shows what was kept`;
}

/** The actions of the aggregated API. */
export type Action = 'approve' | 'deny' | 'revoke' | 'extend';

/** Fields the actions write (docs/api.md), read loosely: they may be newer than this CLI. */
interface ActionStatus {
  approvals?: { decision?: string; username?: string }[];
  revocation?: { username?: string };
}

/** The one-line answer: `execsession default/x approved by carol`. */
export function actionSummary(action: Action, s: ExecSession, now: Date, by?: string): string {
  const st = (s.status ?? {}) as ActionStatus;
  const who = (name: string | undefined): string => (name ? ` by ${name}` : '');
  switch (action) {
    case 'approve':
    case 'deny': {
      const decision = action === 'approve' ? 'Approved' : 'Denied';
      const record = [...(st.approvals ?? [])].reverse().find((a) => a.decision === decision);
      return `execsession ${ref(s)} ${action === 'approve' ? 'approved' : 'denied'}${who(record?.username)}`;
    }
    case 'revoke':
      return `execsession ${ref(s)} revoked${who(st.revocation?.username)}`;
    case 'extend': {
      const expires = s.status?.expiresAt;
      const amount = by ? ` by ${formatDuration(parseDuration(by))}` : '';
      return `execsession ${ref(s)} extended${amount}${expires ? `: expires at ${expires} (${relativeTime(expires, now)})` : ''}`;
    }
  }
}
