/**
 * The one way the operator signs what it writes where others can write too
 * (the requester stamp, approvals, the status seal): HMAC-SHA256 under the operator's key (the stamp
 * key in Secret execsession-operator) over a canonical JSON form, so that the
 * same value always gives the same bytes, whatever order the API server
 * returns its keys in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** JSON with object keys sorted at every depth and undefined members left out: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function mac(key: Buffer, content: unknown): Buffer {
  return createHmac('sha256', key).update(canonicalJson(content)).digest();
}

/** The base64 HMAC-SHA256 of `content`'s canonical JSON under `key`. */
export function signJson(key: Buffer, content: unknown): string {
  return mac(key, content).toString('base64');
}

/** True when `signature` is {@link signJson} of `content` under `key` (compared in constant time). */
export function verifyJson(key: Buffer, content: unknown, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = mac(key, content);
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
