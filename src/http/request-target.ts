/**
 * The request target (`req.url`) as the operator's servers use it: the path,
 * compared as sent, and the query. Nothing here can throw, whatever a client
 * sends: `new URL()` throws on targets such as `//[` (a host that is not one),
 * and one uncaught throw in a request handler ends the process.
 */

/** The path and query of a request target. */
export interface RequestTarget {
  /** Everything before the first `?` (or `#`), not decoded. */
  path: string;
  /** The query, leniently decoded (malformed percent-encoding is kept as it is). */
  query: URLSearchParams;
}

/** The path of a request target, not decoded: what routes are compared with. */
export function pathOf(url: string | undefined): string {
  const text = url ?? '';
  const end = text.search(/[?#]/);
  return end < 0 ? text : text.slice(0, end);
}

/** Splits a request target into its path and query; never throws. */
export function splitTarget(url: string | undefined): RequestTarget {
  const text = (url ?? '').split('#')[0] ?? '';
  const q = text.indexOf('?');
  // URLSearchParams decodes percent-encoding leniently: `%ZZ` stays `%ZZ`, it does not throw.
  return { path: pathOf(text), query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) };
}
