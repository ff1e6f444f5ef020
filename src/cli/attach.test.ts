import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { HIGH_WATER, attach, attachUrl, type AttachIO, type AttachTarget } from './attach.js';
import type { RawCapableInput } from './terminal.js';
import type { Api } from './client.js';
import { ApiError } from './errors.js';
import { encodeFrame } from './frames.js';

const TARGET: AttachTarget = { namespace: 'ns', name: 'dbg', command: [], tty: false, stdin: true };

/** What one test's server does with a connection. */
type Behaviour = (ws: WebSocket, req: IncomingMessage) => void;

/** A loopback attach endpoint: refuses with 403 for session "refused", else runs `behaviour`. */
class FakeServer {
  behaviour: Behaviour = () => undefined;
  protocols: string[] = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  received: Buffer[] = [];
  private readonly http: Server = createServer();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => this.protocols.find((p) => offered.has(p)) ?? false });

  async start(): Promise<string> {
    this.http.on('upgrade', (req, socket, head) => {
      if (req.url?.includes('/refused/')) {
        const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 403, reason: 'Forbidden', message: 'only the subject (alice) may attach to ns/refused' });
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (m: Buffer) => this.received.push(m));
        this.behaviour(ws, req);
      });
    });
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise((resolve) => this.http.close(resolve));
  }
}

function fakeApi(server: string): Api {
  return { namespace: 'ns', server, request: async () => assert.fail('no REST here'), watch: async () => assert.fail('no watch here'), stream: async () => assert.fail('no recordings here'), httpsOptions: async () => ({ headers: { Authorization: 'Bearer t0ken' } }), debug: () => undefined };
}

/** In-memory process streams; stdin/stdout can pretend to be a terminal. */
type FakeIO = AttachIO & { stdin: PassThrough & RawCapableInput; stdout: PassThrough & { columns: number }; out: () => string; err: () => string; modes: boolean[]; proc: EventEmitter & AttachIO['proc'] };

function fakeIO(tty = false): FakeIO {
  const stdin: PassThrough & RawCapableInput = Object.assign(new PassThrough(), { isTTY: tty, isRaw: false });
  const modes: boolean[] = [];
  if (tty) Object.assign(stdin, { setRawMode: (m: boolean) => void modes.push(m) });
  const stdout = Object.assign(new PassThrough(), { isTTY: tty, columns: 100, rows: 40 });
  const stderr = new PassThrough();
  const proc = Object.assign(new EventEmitter(), { exit: () => assert.fail('no exit in tests') });
  return { stdin, stdout, stderr, proc, modes, out: () => String(stdout.read() ?? ''), err: () => String(stderr.read() ?? '') };
}

const status = (s: object): Buffer => encodeFrame(3, JSON.stringify(s));

describe('attach', () => {
  const server = new FakeServer();
  let url: string;
  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());

  it('builds the URL with tty, stdin and repeated command', () => {
    assert.equal(attachUrl('https://k:6443', { ...TARGET, command: ['ls', '-l'], tty: true }),
      'wss://k:6443/apis/subresources.execsession.dev/v1alpha1/namespaces/ns/execsessions/dbg/attach?tty=true&stdin=true&command=ls&command=-l');
  });

  it('v5: stdin to channel 0 then [255, 0] at EOF; stdout, stderr; exit code from NonZeroExitCode', async () => {
    server.received = [];
    let auth: string | undefined;
    server.behaviour = (ws, req) => {
      auth = req.headers.authorization;
      ws.on('message', (m: Buffer) => {
        if (m[0] !== 255) return;
        ws.send(encodeFrame(1, 'hello\n'));
        ws.send(encodeFrame(2, 'oops\n'));
        ws.send(status({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }));
        ws.close(1000);
      });
    };
    const io = fakeIO();
    io.stdin.end('input');
    const code = await attach(fakeApi(url), TARGET, io);
    assert.equal(code, 3);
    assert.equal(auth, 'Bearer t0ken');
    assert.equal(io.out(), 'hello\n');
    assert.equal(io.err(), 'oops\n');
    assert.deepEqual(server.received.map((b) => [...b]), [[0, ...Buffer.from('input')], [255, 0]]);
  });

  it('v4: no close frame at EOF; Success is 0', async () => {
    server.protocols = ['v4.channel.k8s.io'];
    server.received = [];
    server.behaviour = (ws) => {
      ws.on('message', () => {
        ws.send(status({ status: 'Success' }));
        ws.close(1000);
      });
    };
    const io = fakeIO();
    io.stdin.end('x');
    try {
      assert.equal(await attach(fakeApi(url), TARGET, io), 0);
    } finally {
      server.protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    }
    assert.deepEqual(server.received.map((b) => [...b]), [[0, 0x78]]);
  });

  it('tty: raw mode while attached and restored after; size at start and on SIGWINCH', async () => {
    server.received = [];
    const io = fakeIO(true);
    server.behaviour = (ws) => {
      ws.once('message', () => {
        io.stdout.columns = 120;
        io.proc.emit('SIGWINCH');
        setTimeout(() => {
          ws.send(status({ status: 'Failure', reason: 'Expired', message: 'session ns/dbg expired at 2026-11-22T08:00:00Z' }));
          ws.close(1000);
        }, 50);
      });
    };
    const code = await attach(fakeApi(url), { ...TARGET, tty: true }, io);
    assert.equal(code, 1);
    assert.match(io.err(), /session ns\/dbg expired at/);
    assert.deepEqual(io.modes, [true, false]);
    assert.deepEqual(server.received.map((b) => [b[0], JSON.parse(b.subarray(1).toString()) as unknown]), [
      [4, { Width: 100, Height: 40 }], [4, { Width: 120, Height: 40 }],
    ]);
    assert.equal(io.proc.listenerCount('SIGWINCH'), 0);
    assert.equal(io.proc.listenerCount('exit'), 0);
  });

  it('a refused handshake rejects with the Status message', async () => {
    await assert.rejects(attach(fakeApi(url), { ...TARGET, name: 'refused' }, fakeIO()),
      (e: Error) => e instanceof ApiError && e.code === 403 && e.message === 'only the subject (alice) may attach to ns/refused');
  });

  it('a connection closed without a Status is exit 1, saying how to look', async () => {
    server.behaviour = (ws) => ws.close(1011, 'bridge failed');
    const io = fakeIO();
    assert.equal(await attach(fakeApi(url), TARGET, io), 1);
    assert.match(io.err(), /connection closed \(1011 bridge failed\) before the session reported how it ended; "kubectl execsession get dbg -n ns"/);
  });

  it('an unreachable server says so', async () => {
    await assert.rejects(attach(fakeApi('http://127.0.0.1:1'), TARGET, fakeIO()), /cannot attach \(ws:\/\/127\.0\.0\.1:1\): .*ECONNREFUSED/);
  });
});

describe('attach backpressure', () => {
  it('pauses stdin while the socket holds more than the high mark, resumes once drained', async () => {
    const callbacks: (() => void)[] = [];
    const ws = Object.assign(new EventEmitter(), {
      readyState: 1, protocol: 'v5.channel.k8s.io', bufferedAmount: 0,
      send(_data: Buffer, cb?: () => void) {
        this.bufferedAmount += HIGH_WATER + 1;
        if (cb) callbacks.push(cb);
      },
      pause: () => undefined, resume: () => undefined,
    });
    setImmediate(() => ws.emit('open'));
    const io = fakeIO();
    const done = attach(fakeApi('http://unused'), TARGET, io, () => ws as unknown as WebSocket);
    await new Promise((r) => setTimeout(r, 10));
    io.stdin.write('a');
    await new Promise((r) => setImmediate(r));
    assert.equal(io.stdin.isPaused(), true);
    ws.bufferedAmount = 0;
    callbacks.shift()?.();
    assert.equal(io.stdin.isPaused(), false);
    ws.emit('message', status({ status: 'Success' }));
    ws.emit('close', 1000, Buffer.from(''));
    assert.equal(await done, 0);
  });
});
