/**
 * The browser terminal (runs in the page of src/web/page.ts): xterm.js connected
 * to the session's attach WebSocket on the page's own origin, speaking the same
 * channel protocol as `kubectl execsession attach` (src/api/channels.ts): keys
 * on channel 0, output from 1 and 2, the ending Status on 3, sizes on 4.
 * Bundled by esbuild (src/web/build.ts) and served by the operator: no CDN.
 */
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { Channel, PROTOCOLS, type ExecStatus } from '../../api/channels.js';
import { adoptStyleElements } from './styles.js';
import { countdown, followExpiry } from './countdown.js';

/** Light grey on near-black: 14.7:1, above WCAG AA's 4.5:1; the ANSI colours keep at least 4.5:1 too. */
const THEME: ITheme = {
  background: '#111418', foreground: '#e6e6e6', cursor: '#e6e6e6', selectionBackground: '#44546a',
  black: '#111418', red: '#ff6b6b', green: '#5fd37a', yellow: '#f0c454', blue: '#6fa8ff', magenta: '#d68cf2', cyan: '#4fd6d6', white: '#e6e6e6',
  brightBlack: '#9aa3ad', brightRed: '#ff8f8f', brightGreen: '#8be39f', brightYellow: '#f7d98b', brightBlue: '#9cc3ff', brightMagenta: '#e4b0f7', brightCyan: '#8ee8e8', brightWhite: '#ffffff',
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

function say(text: string, ended = false): void {
  const status = byId('status');
  status.textContent = text;
  status.classList.toggle('ended', ended);
}

/** One message: the channel byte, then the payload. */
function frame(channel: number, payload: string): Uint8Array {
  const body = encoder.encode(payload);
  const out = new Uint8Array(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** The attach URL beside the page's own (`.../NAME/terminal` becomes `.../NAME/attach`), ws: or wss:. */
function attachUrl(): string {
  const url = new URL('attach', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = 'tty=true&stdin=true';
  return url.href;
}

/** Ctrl+Shift+C copies the selection; Ctrl+Shift+V pastes (the browser's paste event, which xterm.js sends as input). */
function clipboardKeys(term: Terminal): (e: KeyboardEvent) => boolean {
  return (e) => {
    if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === 'KeyC') {
      const text = term.getSelection();
      if (text) void navigator.clipboard?.writeText(text).catch(() => say('Copy failed: the browser did not allow the clipboard.'));
      return false;
    }
    return e.code !== 'KeyV';
  };
}

/** How the attach ended, for the status line: the server's last message when it sent one. */
function ending(status: ExecStatus | undefined, code: number): string {
  if (status?.status === 'Success') return 'The shell exited. Reload the page to attach again while the session lasts.';
  if (status?.message) return status.message;
  return `The connection closed (${code}) before the session said why; reload the page to see whether it still runs.`;
}

function connect(term: Terminal, fit: FitAddon, onEnd: () => void): void {
  const ws = new WebSocket(attachUrl(), [...PROTOCOLS]);
  ws.binaryType = 'arraybuffer';
  let status: ExecStatus | undefined;
  const sendSize = (): void => {
    byId('size').textContent = `${term.cols}×${term.rows}`;
    if (ws.readyState === WebSocket.OPEN) ws.send(frame(Channel.Resize, JSON.stringify({ Width: term.cols, Height: term.rows })));
  };
  ws.onopen = () => {
    say('Connected.');
    sendSize();
  };
  ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
    const data = new Uint8Array(ev.data);
    if (data.length === 0) return;
    if (data[0] === Channel.Stdout || data[0] === Channel.Stderr) term.write(data.subarray(1));
    else if (data[0] === Channel.Status) status = JSON.parse(decoder.decode(data.subarray(1))) as ExecStatus;
  };
  ws.onclose = (ev) => {
    onEnd();
    say(ending(status, ev.code), true);
    term.options.disableStdin = true;
  };
  term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(frame(Channel.Stdin, d)));
  term.onResize(sendSize);
  new ResizeObserver(() => fit.fit()).observe(byId('terminal'));
  sendSize();
}

function main(): void {
  adoptStyleElements(document);
  const term = new Terminal({ theme: THEME, cursorBlink: true, fontSize: 15, scrollback: 5000, allowProposedApi: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.attachCustomKeyEventHandler(clipboardKeys(term));
  term.open(byId('terminal'));
  fit.fit();
  term.focus();
  const left = countdown(byId('session').dataset.expiresAt ?? '', byId('countdown'));
  // An extend moves the expiry: the page asks for its own headers now and then while attached.
  const unfollow = followExpiry(window.location.href, left);
  connect(term, fit, unfollow);
}

main();
