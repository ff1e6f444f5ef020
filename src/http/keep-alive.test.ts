import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_IDLE_MS, outlastClientKeepAlive } from './keep-alive.js';

/** Whether a connection that sat idle for `idleMs` after one request is still open. */
async function openAfterIdle(server: Server, idleMs: number): Promise<boolean> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  await new Promise((r) => socket.once('data', r));
  await sleep(idleMs);
  socket.destroy();
  server.close();
  return !closed;
}

describe('outlastClientKeepAlive', () => {
  it('keeps an idle connection open past Node\'s 5 s default, and longer than kube-apiserver\'s clients keep theirs', async () => {
    const ours = createServer((_req, res) => res.end('ok'));
    outlastClientKeepAlive(ours);
    assert.ok(ours.keepAliveTimeout > CLIENT_IDLE_MS);
    const node = createServer((_req, res) => res.end('ok'));
    const [kept, dropped] = await Promise.all([openAfterIdle(ours, 7000), openAfterIdle(node, 7000)]);
    assert.deepEqual({ kept, dropped: !dropped }, { kept: true, dropped: true }, 'the default closes it after about 6 s (the race this avoids); ours does not');
  });
});
