// Durations in the spec.ttl format: Go-style (`1h30m`, `1.5h`, `500ms`) but
// limited to the units the CRD pattern accepts, so anything the API server
// admits parses here, and vice versa.

/** The CRD's spec.ttl pattern; kept identical so the two cannot disagree. */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

/** Longest allowed session: 7 days, so forgotten sessions do not live forever. */
export const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

type Unit = 'ms' | 's' | 'm' | 'h';
const UNIT_MS: Readonly<Record<Unit, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
// `ms` must come before `m` in the alternation, or `500ms` would read as `500m` + `s`.
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const EXAMPLE = 'use a number with a unit (ms, s, m, h), e.g. "30s", "15m" or "1h30m"';

/**
 * Parses a duration such as `90s`, `15m`, `1h30m`, `1.5h` or `500ms` into
 * milliseconds (rounded to whole ms). Throws an Error naming the bad value and
 * showing an example when the text is malformed, zero, or longer than 7 days.
 */
export function parseDuration(text: string): number {
  if (!DURATION_PATTERN.test(text)) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: ${EXAMPLE}`);
  }
  let total = 0;
  // The pattern check above guarantees every part has an amount and a known unit.
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  const ms = Math.round(total);
  if (ms <= 0) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: must be more than zero; ${EXAMPLE}`);
  }
  if (ms > MAX_DURATION_MS) {
    throw new Error(
      `invalid duration ${JSON.stringify(text)}: must be at most 168h (7 days); use a shorter one, e.g. "24h"`,
    );
  }
  return ms;
}

/**
 * Formats milliseconds for messages in the same notation parseDuration reads:
 * `1h30m`, `45s`, `1m30.5s`, `500ms`; zero units are left out and 0 is `0s`.
 * Negative values (e.g. time past expiry) get a leading `-`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format duration ${ms}`);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const whole = Math.round(ms);
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = (whole % 60_000) / 1000;
  return [
    hours > 0 ? `${hours}h` : '',
    minutes > 0 ? `${minutes}m` : '',
    seconds > 0 ? `${seconds}s` : '',
  ].join('');
}
