/**
 * Opening a URL in the user's browser, where there is one: $BROWSER, else the
 * platform's opener (xdg-open, open, start). The URL carries the proxy's token,
 * and a command line is visible to every local user (ps), so the opener is
 * handed a file instead, readable by the user alone, that sends the browser on
 * to the URL (as Jupyter does); the file is removed soon after.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The opener's argv before the file, or undefined when there is none. */
export function opener(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, onPath: (cmd: string) => boolean): string[] | undefined {
  if (env.BROWSER) return [env.BROWSER];
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""'];
  // Without a display, xdg-open would start a text browser in this terminal, over the proxy's output.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return onPath('xdg-open') ? ['xdg-open'] : undefined;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, cmd)));
}

/** The launcher page: a redirect, and a link for browsers that do not follow it. */
export function launcherHtml(url: string): string {
  const safe = url.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${safe}"><title>execsession</title><a href="${safe}">Open the terminal</a>\n`;
}

/** Opens `url`; resolves false (and opens nothing) when no browser can be started. */
export function openBrowser(url: string): boolean {
  const argv = opener(process.env, process.platform, onPath);
  if (!argv) return false;
  const dir = mkdtempSync(join(tmpdir(), 'execsession-web-'));
  const file = join(dir, 'open.html');
  writeFileSync(file, launcherHtml(url), { mode: 0o600 });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  setTimeout(cleanup, 60_000).unref();
  try {
    const [cmd = '', ...args] = argv;
    const child = spawn(cmd, [...args, file], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
