/**
 * GET .../execsessions/NAME/terminal and its assets (docs/browser.md, ADR 33).
 * kube-apiserver has authenticated the caller and checked `get` on
 * execsessions/terminal; the page is then decided exactly as an attach is
 * (Attacher.attachable): only the session's subject, only while it is live,
 * only on status the operator sealed. Anyone else gets the attach's refusal and
 * nothing of the session. The assets are the same for everyone and name no
 * session; they are still only reached through kube-apiserver.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Person } from '../api/types.js';
import { TERMINAL_EXPIRES_HEADER, type SubresourceTarget, type TerminalAsset } from '../api/subresources.js';
import { pageFacts, securityHeaders, terminalPage } from '../web/page.js';
import { terminalAssets } from '../web/assets.js';
import type { Attacher } from './attach.js';
import { ApiError } from './types.js';

function onlyGet(req: IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'MethodNotAllowed', 'the terminal page takes GET; open it in a browser: kubectl execsession web NAME');
}

/** The page, for the session's subject. */
export async function serveTerminalPage(req: IncomingMessage, res: ServerResponse, target: SubresourceTarget, caller: Person, attacher: Pick<Attacher, 'attachable'>): Promise<void> {
  onlyGet(req);
  const session = await attacher.attachable(caller, target.namespace, target.name);
  const facts = pageFacts(session);
  const body = Buffer.from(terminalPage(facts), 'utf8');
  // The current expiry, for the page's countdown to follow an extend (a HEAD now and then).
  const expiry = facts.expiresAt ? { [TERMINAL_EXPIRES_HEADER]: facts.expiresAt } : {};
  res.writeHead(200, { ...securityHeaders('text/html; charset=utf-8'), ...expiry, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** terminal.js or terminal.css; an If-None-Match that matches gets 304. */
export async function serveTerminalAsset(req: IncomingMessage, res: ServerResponse, name: TerminalAsset): Promise<void> {
  onlyGet(req);
  const asset = (await terminalAssets()).get(name);
  if (!asset) throw new ApiError(404, 'NotFound', `no terminal asset ${name}`);
  const headers = { ...securityHeaders(asset.contentType), ETag: asset.etag, 'Cache-Control': 'no-cache' };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
