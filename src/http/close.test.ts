import assert from 'node:assert/strict';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { describe, it } from 'node:test';
import type { Server } from 'node:https';
import { closeServer } from './close.js';

describe('closeServer', () => {
  it('does not wait on a kept-alive idle connection, and cuts a request still in flight after the grace', async () => {
    // A plain HTTP server: the same close/closeIdleConnections/closeAllConnections as the HTTPS ones.
    const server = createHttpServer((req, res) => {
      if (req.url === '/slow') return; // never answered
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const agent = new Agent({ keepAlive: true });
    const get = (path: string): Promise<string> => new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
    assert.equal(await get('/'), 'ok');
    const slow = get('/slow').catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 50));
    // Without the cut, close() would wait for the unanswered request forever (the test would time out).
    await closeServer(server as unknown as Server, 300);
    assert.match(String(await slow), /socket hang up|ECONNRESET/);
    agent.destroy();
  });
});
