/**
 * Strings that others wrote (spec.reason, a user name, a server's message
 * quoting them) are shown to whoever runs the CLI. Printed raw, an escape
 * sequence in one of them rewrites that person's terminal: its title, its
 * screen, its colours, or what a line appears to say. Everything the CLI
 * prints that it did not compose itself goes through `printable` first:
 * control characters (C0 but tab and line feed, DEL, C1) and the invisible
 * bidirectional overrides become visible escapes, as `\x1b`, `\u202e`.
 * A session's own output (`create` without -i, `attach`) is the command's
 * output and is passed through as `kubectl exec` passes it.
 */

// What a terminal acts on or hides beyond C0: DEL, C1; bidi embeddings, overrides and isolates; line and paragraph separators.
const BEYOND_C0 = '\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029';
// C0 but \t and \n, and the rest.
const UNSAFE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f${BEYOND_C0}]`, 'g');
// In one table cell or one line a line feed or a tab would move the text: escape them too.
const UNSAFE_INLINE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g');
// What JSON.stringify and the yaml library leave raw (they escape C0 themselves).
const UNSAFE_QUOTED = new RegExp(`[${BEYOND_C0}]`, 'g');

function escape(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text safe to write to a terminal; line feeds and tabs stay. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** One cell or one line: line feeds and tabs are escaped as well. */
export function printableInline(text: string): string {
  return text.replace(UNSAFE_INLINE, escape);
}

/**
 * JSON text with DEL, C1 and the bidi controls as `\u009b`-style escapes (JSON.stringify
 * escapes only C0); the same value, parsed.
 */
export function printableJson(json: string): string {
  return json.replace(UNSAFE_QUOTED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether a string holds anything `printable` would escape. */
export function hasUnsafe(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}

/**
 * YAML text with the same escapes: the caller quotes every string holding an unsafe
 * character (`yamlSafe`), so each one stands in a double-quoted scalar, where YAML
 * reads `\x9b` and `\u202e` back as the characters.
 */
export function printableYaml(yaml: string): string {
  return yaml.replace(UNSAFE_QUOTED, escape);
}
