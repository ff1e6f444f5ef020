/**
 * A minimal attach client for suites and benchmarks: opens the attach WebSocket
 * through kube-apiserver with a kubeconfig's credentials, collects stdout and
 * stderr, and resolves with the status frame.
 */
import { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { Channel, PROTOCOLS, frame, parseStatus, type ExecStatus } from '../../src/api/channels.js';
import { API_GROUP_VERSION } from '../../tools/support/operator.js';

/** A live attach. */
export interface Attached {
  ws: WebSocket;
  stdout: () => string;
  stderr: () => string;
  /** Bytes of stdout so far (for streaming benchmarks, without keeping them). */
  stdoutBytes: () => number;
  send: (data: string | Buffer) => void;
  resize: (width: number, height: number) => void;
  /** The status frame, or undefined when the socket closed without one. */
  done: Promise<{ status: ExecStatus | undefined; closedAt: number }>;
  /** Resolves when stdout has matched. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

/** The refusal of an attach before the WebSocket opened. */
export class AttachRefused extends Error {
  constructor(readonly code: number, readonly body: string) {
    super(`attach refused (HTTP ${code}): ${body}`);
  }
}

export interface AttachOptions {
  command?: string[];
  tty?: boolean;
  stdin?: boolean;
  /** Keep stdout text (default true; false only counts bytes). */
  keep?: boolean;
  protocols?: string[];
  /** Further query parameters, sent as given (e.g. a malformed value). */
  query?: Record<string, string>;
  /** Query parameters in this order, repeats kept (after the ones above). */
  params?: Array<[string, string]>;
}

/** Starts the attach WebSocket handshake as the kubeconfig's user, without waiting for it. */
export async function openAttachSocket(kubeconfig: string, namespace: string, name: string, o: AttachOptions = {}): Promise<WebSocket> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const q = new URLSearchParams();
  if (o.tty !== undefined) q.set('tty', String(o.tty));
  if (o.stdin !== undefined) q.set('stdin', String(o.stdin));
  for (const c of o.command ?? []) q.append('command', c);
  for (const [k, v] of Object.entries(o.query ?? {})) q.append(k, v);
  for (const [k, v] of o.params ?? []) q.append(k, v);
  const server = (kc.getCurrentCluster()?.server ?? '').replace(/^http/, 'ws');
  const url = `${server}/apis/${API_GROUP_VERSION}/namespaces/${namespace}/execsessions/${name}/attach?${q.toString()}`;
  const opts: WebSocket.ClientOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return new WebSocket(url, o.protocols ?? [...PROTOCOLS], opts);
}

/** Attaches to a session as the kubeconfig's user. */
export async function attach(kubeconfig: string, namespace: string, name: string, o: AttachOptions = {}): Promise<Attached> {
  const ws = await openAttachSocket(kubeconfig, namespace, name, o);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => reject(new AttachRefused(res.statusCode ?? 0, body)));
    });
    ws.once('error', reject);
  });
  let out = '';
  let err = '';
  let outBytes = 0;
  let status: ExecStatus | undefined;
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const ch = data[0];
    const body = data.subarray(1);
    if (ch === Channel.Stdout) {
      outBytes += body.length;
      if (o.keep !== false) out += body.toString('utf8');
      for (const w of [...waiters]) w();
    } else if (ch === Channel.Stderr) {
      err += body.toString('utf8');
    } else if (ch === Channel.Status) {
      status = parseStatus(body);
    }
  });
  const done = new Promise<{ status: ExecStatus | undefined; closedAt: number }>((resolve) => ws.once('close', () => resolve({ status, closedAt: Date.now() })));
  return {
    ws,
    stdout: () => out,
    stderr: () => err,
    stdoutBytes: () => outBytes,
    send: (d) => ws.send(frame(Channel.Stdin, d)),
    resize: (w, h) => ws.send(frame(Channel.Resize, JSON.stringify({ Width: w, Height: h }))),
    done,
    waitFor: (re, timeoutMs = 15_000) => new Promise<void>((resolve, reject) => {
      if (re.test(out)) return resolve();
      const timer = setTimeout(() => reject(new Error(`stdout did not match ${re} within ${timeoutMs} ms; got: ${JSON.stringify(out.slice(-500))} stderr: ${JSON.stringify(err.slice(-500))}`)), timeoutMs);
      const check = (): void => {
        if (!re.test(out)) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(check), 1);
        resolve();
      };
      waiters.push(check);
    }),
  };
}
