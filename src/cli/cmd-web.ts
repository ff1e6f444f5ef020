/**
 * `web`: the session's terminal in a browser (docs/browser.md). Waits for
 * Ready, starts the local proxy (web-proxy.ts), prints its URL, opens a browser
 * unless --no-open, and exits once the session has ended.
 */
import type { Api, GlobalOptions } from './client.js';
import { print, printErr, type CliContext } from './context.js';
import { waitReady } from './cmd-create.js';
import { openBrowser } from './browser-open.js';
import { endedMessage } from './outcome.js';
import { waitForSession } from './wait.js';
import { WebProxy } from './web-proxy.js';

/** `web`'s flags (and `create --web`'s). */
export interface WebFlags {
  /** false for --no-open. */
  open?: boolean;
  timeout?: string;
}

/** After the session ends, the proxy lives this long, so the page gets the attach's last message. */
const LINGER_MS = 3000;

/** Runs `web`: 0 when the session has ended, 1 when it never became Ready. */
export async function runWeb(ctx: CliContext, globals: GlobalOptions, name: string, flags: WebFlags): Promise<number> {
  const api = await ctx.connect(globals);
  await waitReady(ctx, api, name, flags.timeout, !ctx.io.stderr.isTTY);
  return serveWeb(ctx, api, name, flags);
}

/** Serves a Ready session's terminal until the session ends. */
export async function serveWeb(ctx: CliContext, api: Api, name: string, flags: WebFlags): Promise<number> {
  const proxy = new WebProxy(api, { namespace: api.namespace, name });
  const url = await proxy.listen();
  print(ctx, `The terminal of execsession ${api.namespace}/${name}, for this run only:`);
  print(ctx, `  ${url}`);
  if (flags.open !== false && !openBrowser(url)) printErr(ctx, 'no browser to open here: open the URL above in a browser on this machine');
  printErr(ctx, 'The proxy stops when the session ends; Ctrl-C stops it now (the session goes on).');
  try {
    const ended = await waitForSession(api, api.namespace, name, 'end', { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 1000 });
    printErr(ctx, endedMessage(ended));
    await new Promise((r) => setTimeout(r, LINGER_MS));
    return 0;
  } finally {
    await proxy.close();
  }
}
