/** The header's "ends" field: the time left until the session's expiry, each second. */

/** `1h 02m 05s`, `4m 09s`, `7s`. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${sec}s`;
  return m > 0 ? `${m}m ${sec}s` : `${s}s`;
}

/** Counts down to `expiresAt` (RFC 3339) in `el`; '' means the session has no end. */
export function countdown(expiresAt: string, el: HTMLElement, now: () => number = Date.now): void {
  const end = Date.parse(expiresAt);
  if (!expiresAt || Number.isNaN(end)) return;
  const at = new Date(end).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const tick = (): void => {
    const left = end - now();
    el.textContent = left > 0 ? `in ${formatLeft(left)} (${at})` : `expired (${at})`;
    if (left > 0) setTimeout(tick, 1000 - (now() % 1000));
  };
  tick();
}
