/**
 * Human output: kubectl-style ages, relative expiry, and tables padded the way
 * kubectl's tabwriter pads them (columns three spaces apart, no trailing blanks).
 */
import { DateTime } from 'luxon';
import { sessionSubject } from '../api/subject.js';
import { isTerminalPhase, type ExecSession } from '../api/types.js';
import { printableInline } from './printable.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

/**
 * kubectl's HumanDuration (k8s.io/apimachinery/pkg/util/duration): `45s`,
 * `5m30s`, `42m`, `3h5m`, `20h`, `3d4h`, `40d`, `2y10d`, `9y`; two significant
 * units while the number is small, one once it is large.
 */
export function formatAge(ms: number): string {
  if (ms < -S) return '<invalid>';
  if (ms < 0) return '0s';
  const s = Math.floor(ms / S);
  if (ms < 2 * M) return `${s}s`;
  const m = Math.floor(ms / M);
  if (ms < 10 * M) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (ms < 3 * H) return `${m}m`;
  const h = Math.floor(ms / H);
  if (ms < 8 * H) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (ms < 48 * H) return `${h}h`;
  const d = Math.floor(ms / D);
  if (ms < 8 * D) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (ms < 2 * Y) return `${d}d`;
  const y = Math.floor(ms / Y);
  if (ms < 8 * Y) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

/** Age of an RFC 3339 time at `now`, or `<unknown>`. */
export function ageOf(time: string | undefined, now: Date): string {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? '<unknown>' : formatAge(now.getTime() - t);
}

/** `in 14 minutes`, `3 minutes ago` (luxon); `-` when there is no time. */
export function relativeTime(time: string | undefined, now: Date): string {
  if (!time) return '-';
  const t = DateTime.fromISO(time);
  if (!t.isValid) return '<invalid>';
  return t.toRelative({ base: DateTime.fromJSDate(now) }) ?? '-';
}

/**
 * The EXPIRES column: relative expiry while the session lives (and for an
 * Expired one, when it expired); `-` once it ended another way or never started.
 */
export function expiresColumn(session: ExecSession, now: Date): string {
  const phase = session.status?.phase;
  if (isTerminalPhase(phase) && phase !== 'Expired') return '-';
  return relativeTime(session.status?.expiresAt, now);
}

/**
 * Pads columns three spaces apart, as kubectl does; the last column is not padded.
 * Cells are others' strings: their control characters are escaped (see printable.ts).
 */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows.map((r) => r.map(printableInline))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return `${all.map(line).join('\n')}\n`;
}

/** Table options: `wide` adds columns, `namespaces` prefixes NAMESPACE (for -A). */
export interface TableOptions {
  wide?: boolean;
  namespaces?: boolean;
}

const COLUMNS = ['NAME', 'POD', 'CONTAINER', 'USER', 'SUBJECT', 'PHASE', 'EXPIRES', 'AGE'];
const WIDE_COLUMNS = ['NODE', 'BACKEND', 'UID:GID', 'REASON'];

/** metadata times are strings on the wire, though client-node types them as Date. */
function timeText(t: Date | string | undefined): string | undefined {
  return t instanceof Date ? t.toISOString() : t;
}

/** One session's row; empty cells show `<none>`, as kubectl's do. */
function row(s: ExecSession, now: Date, opts: TableOptions): string[] {
  const none = (v: string | number | undefined): string => (v === undefined || v === '' ? '<none>' : String(v));
  const cells = [
    none(s.metadata.name), none(s.spec.podName), none(s.status?.container ?? s.spec.container), none(s.spec.user),
    none(sessionSubject(s.spec).username), none(s.status?.phase ?? 'Pending'), expiresColumn(s, now), ageOf(timeText(s.metadata.creationTimestamp), now),
  ];
  if (opts.wide) {
    const u = s.status?.user;
    cells.push(none(s.status?.node), none(s.status?.backend), u ? `${u.uid}:${u.gid}` : '<none>', none(s.spec.reason));
  }
  return opts.namespaces ? [none(s.metadata.namespace), ...cells] : cells;
}

/** The session table of `list` and `get`. */
export function sessionTable(sessions: ExecSession[], now: Date, opts: TableOptions = {}): string {
  const header = [...(opts.namespaces ? ['NAMESPACE'] : []), ...COLUMNS, ...(opts.wide ? WIDE_COLUMNS : [])];
  return formatTable(header, sessions.map((s) => row(s, now, opts)));
}
