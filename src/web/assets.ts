/**
 * The browser terminal's assets as the operator serves them. The operator's
 * bundle carries them (scripts/bundle.ts defines __EXECSESSION_TERMINAL_ASSETS__
 * when it bundles), so the image needs no file beside main.mjs; from source,
 * they are built once, at the first request for them.
 */
import { createHash } from 'node:crypto';
import type { TerminalAsset } from '../api/subresources.js';
import type { AssetTexts } from './build.js';

/** The assets as JSON text, when bundled (a string: esbuild inlines it where it is used). */
declare const __EXECSESSION_TERMINAL_ASSETS__: string | undefined;

/** One asset, ready to send. */
export interface Asset {
  body: Buffer;
  contentType: string;
  /** A strong ETag (sha256 of the body). */
  etag: string;
}

const TYPES: Record<TerminalAsset, string> = { 'terminal.js': 'text/javascript; charset=utf-8', 'terminal.css': 'text/css; charset=utf-8' };

let loading: Promise<Map<TerminalAsset, Asset>> | undefined;

async function texts(): Promise<AssetTexts> {
  if (typeof __EXECSESSION_TERMINAL_ASSETS__ !== 'undefined') return JSON.parse(__EXECSESSION_TERMINAL_ASSETS__) as AssetTexts;
  const { buildTerminalAssets } = await import('./build.js');
  return buildTerminalAssets();
}

/** The assets, loaded once; a failed load is tried again at the next request. */
export function terminalAssets(): Promise<Map<TerminalAsset, Asset>> {
  loading ??= texts().then((t) => new Map(Object.entries(t).map(([name, text]) => {
    const body = Buffer.from(text, 'utf8');
    const asset = name as TerminalAsset;
    return [asset, { body, contentType: TYPES[asset], etag: `"${createHash('sha256').update(body).digest('base64url')}"` }];
  })), (e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
