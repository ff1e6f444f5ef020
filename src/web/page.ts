/**
 * The browser terminal's page (docs/browser.md, ADR 33): a small HTML document
 * that names the session and loads the bundled script and style from below its
 * own path, so that every request, the page's, its assets' and the attach
 * WebSocket's, goes through kube-apiserver like `kubectl execsession attach`.
 * No inline script or style: the session's facts travel in data- attributes,
 * and the headers forbid everything the page does not need.
 */
import type { ContainerUser, ExecSession } from '../api/types.js';

/** What the page shows about its session. */
export interface PageFacts {
  namespace: string;
  name: string;
  pod: string;
  container: string;
  /** `alice (uid 1000)`. */
  user: string;
  /** RFC 3339, or '' for a session without an end. */
  expiresAt: string;
}

/** The facts of a session whose status the caller's attach check has verified. */
export function pageFacts(s: ExecSession): PageFacts {
  const st = s.status ?? {};
  return {
    namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '', pod: s.spec.podName,
    container: st.container ?? s.spec.container ?? '', user: describeUser(st.user, s.spec.user), expiresAt: st.expiresAt ?? '',
  };
}

function describeUser(u: ContainerUser | undefined, asked: string): string {
  if (!u) return asked;
  return u.name ? `${u.name} (uid ${u.uid})` : `uid ${u.uid}`;
}

/** Escapes text for an HTML element's content or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The Content-Security-Policy: scripts, styles and connections only from the
 * page's own origin (the WebSocket to `attach` is same-origin), nothing framed,
 * no form, no base. Styles xterm.js computes are applied through CSSOM, which
 * CSP allows, not through inline <style> (src/web/browser/terminal.ts).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:",
  "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Headers of the page and its assets. */
export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // The page carries the session's facts: never kept by the browser or a cache in between.
    'Cache-Control': 'no-store',
  };
}

/** The page: a header that names the session, a status line, and the terminal's element. */
export function terminalPage(f: PageFacts): string {
  const e = escapeHtml;
  const where = `${f.namespace}/${f.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${e(f.name)} (${e(f.user)}) · execsession</title>
<link rel="stylesheet" href="terminal/terminal.css">
<script type="module" src="terminal/terminal.js"></script>
</head>
<body>
<header id="session" data-expires-at="${e(f.expiresAt)}">
<h1>execsession <span class="name">${e(where)}</span></h1>
<dl>
<div><dt>as</dt><dd id="user">${e(f.user)}</dd></div>
<div><dt>in</dt><dd>${e(f.pod)}/${e(f.container)}</dd></div>
<div><dt>ends</dt><dd id="countdown" role="timer" aria-live="off">${f.expiresAt ? e(f.expiresAt) : 'never'}</dd></div>
<div><dt>size</dt><dd id="size">-</dd></div>
</dl>
<p id="status" role="status" aria-live="polite">Connecting…</p>
</header>
<main id="terminal" aria-label="Terminal of ${e(where)}"></main>
</body>
</html>
`;
}
