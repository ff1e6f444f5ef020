/**
 * Human output: relative times (luxon), and tables padded the way kubectl's
 * tabwriter pads them (columns three spaces apart, no trailing blanks). Ages
 * and the session table itself come from the server's Table (printers.ts).
 */
import { DateTime } from 'luxon';
import { printableInline } from './printable.js';

/** `in 14 minutes`, `3 minutes ago` (luxon); `-` when there is no time. */
export function relativeTime(time: string | undefined, now: Date): string {
  if (!time) return '-';
  const t = DateTime.fromISO(time);
  if (!t.isValid) return '<invalid>';
  return t.toRelative({ base: DateTime.fromJSDate(now) }) ?? '-';
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
