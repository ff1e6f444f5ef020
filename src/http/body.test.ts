import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { drainOrClose, readBoundedBody } from './body.js';
import { sendJson } from './respond.js';

/** A plain HTTP server (the same request handling as the HTTPS ones) on a free port. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Writes `raw` on one connection; what came back and how the connection ended, once it closes or `wantResponses` answers arrived. */
function exchange(port: number, raw: Buffer, wantResponses: number, timeoutMs = 5000): Promise<{ text: string; error?: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let error: string | undefined;
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, error, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if ((text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length >= wantResponses && /\r\n\r\n[^]*ok$|"code":\d+}$/.test(text)) finish(false);
    });
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => finish(true));
    socket.write(raw);
  });
}

function post(size: number): Buffer {
  return Buffer.concat([Buffer.from(`POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`), Buffer.alloc(size, 'x')]);
}

describe('request bodies past the limit', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('answers 413 after reading and dropping a 2 MiB body, keeping the connection for the next request', async () => {
    const { server, port } = await serve((req, res) => {
      if (req.method === 'GET') return void res.writeHead(200, { 'Content-Length': 2 }).end('ok');
      readBoundedBody(req, 64 << 10, () => new Error('too large')).then(
        () => sendJson(res, 200, { code: 200 }),
        () => sendJson(res, 413, { code: 413 }),
      );
    });
    servers.push(server);
    // The whole body, then a second request on the same connection: before the drain, the
    // connection closed after the 413 and writing the rest of the body failed (EPIPE/ECONNRESET).
    const got = await exchange(port, Buffer.concat([post(2 << 20), Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n')]), 2);
    assert.equal(got.error, undefined, got.text);
    assert.match(got.text, /^HTTP\/1\.1 413 [^]*"code":413}HTTP\/1\.1 200 [^]*ok$/);
  });

  it('closes the connection once the rest is longer than the drain bound', async () => {
    const { server, port } = await serve((req, res) => {
      res.end('refused');
      drainOrClose(req, 256 << 10, 10_000);
    });
    servers.push(server);
    const got = await exchange(port, post(4 << 20), 2);
    assert.equal(got.closed, true, 'the connection was closed');
    assert.match(got.text, /^HTTP\/1\.1 200 /);
  });

  it('closes the connection when the rest does not arrive within the time bound', async () => {
    const { server, port } = await serve((req, res) => {
      res.end('refused');
      drainOrClose(req, 8 << 20, 200);
    });
    servers.push(server);
    const started = Date.now();
    const got = await exchange(port, post(1 << 20).subarray(0, 4096), 2);
    assert.equal(got.closed, true, 'the connection was closed');
    assert.ok(Date.now() - started < 4000, 'closed by the time bound, not the test timeout');
  });
});
