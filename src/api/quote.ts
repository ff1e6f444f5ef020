/**
 * A user-written value inside an error message: JSON-quoted (so C0 control
 * characters, quotes and backslashes are escaped), C1 controls and the Unicode
 * line separators escaped too, and cut short when huge. No control character
 * of the value reaches a terminal or a log raw.
 */
export function quoted(v: string, max = 64): string {
  const q = JSON.stringify(v.length > max ? `${v.slice(0, max)}...` : v);
  return q.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
