/**
 * The header's "ends" field: the time left until the session's expiry, each
 * second, following an extend: the page asks for its own headers now and then
 * (HEAD, same origin, through the same authorization as the page), and the
 * operator answers with the session's current expiry (`Execsession-Expires-At`).
 */

import { TERMINAL_EXPIRES_HEADER } from '../../api/subresources.js';

/** How often the page asks for the current expiry while the terminal is attached. */
export const FOLLOW_EVERY_MS = 30_000;

/** `1h 02m 05s`, `4m 09s`, `7s`. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${sec}s`;
  return m > 0 ? `${m}m ${sec}s` : `${s}s`;
}

/** A running countdown. */
export interface Countdown {
  /** Counts down to this expiry from now on (RFC 3339; '' or unparsable changes nothing). */
  set(expiresAt: string): void;
  /** The expiry it counts down to, in milliseconds since the epoch (NaN without one). */
  end(): number;
  stop(): void;
}

/** Counts down to `expiresAt` (RFC 3339) in `el`; '' means the session has no end. */
export function countdown(expiresAt: string, el: Pick<HTMLElement, 'textContent'>, now: () => number = Date.now): Countdown {
  let end = Number.NaN;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = (): void => {
    timer = undefined;
    const at = new Date(end).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const left = end - now();
    el.textContent = left > 0 ? `in ${formatLeft(left)} (${at})` : `expired (${at})`;
    if (left > 0) timer = setTimeout(tick, 1000 - (now() % 1000));
  };
  const c: Countdown = {
    set(next) {
      const t = Date.parse(next);
      if (!next || Number.isNaN(t) || t === end) return;
      end = t;
      if (timer !== undefined) clearTimeout(timer);
      tick();
    },
    end: () => end,
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
  c.set(expiresAt);
  return c;
}

/**
 * Asks `pageUrl` (HEAD) for the session's current expiry every `every` ms and
 * moves the countdown to it. Stops at the first answer that is not 2xx (the
 * session ended, or the caller may no longer see it), or when the returned
 * function is called. A failed request (network) is tried again next time.
 */
export function followExpiry(
  pageUrl: string, c: Countdown, every = FOLLOW_EVERY_MS,
  fetcher: (url: string, init: RequestInit) => Promise<Pick<Response, 'ok' | 'headers'>> = (u, i) => fetch(u, i),
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ask = async (): Promise<void> => {
    timer = undefined;
    try {
      const res = await fetcher(pageUrl, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' });
      if (!res.ok) stopped = true;
      else c.set(res.headers.get(TERMINAL_EXPIRES_HEADER) ?? '');
    } catch {
      // Offline for a moment: the next round asks again.
    }
    if (!stopped) timer = setTimeout(() => void ask(), every);
  };
  timer = setTimeout(() => void ask(), every);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
