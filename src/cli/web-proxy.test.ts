import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { subresourcePath } from '../api/subresources.js';
import { decide, WebProxy, type ProxyScope } from './web-proxy.js';

const SCOPE: ProxyScope = { port: 4242, token: 'T0k3n', namespace: 'shop', name: 'dbg' };
const PAGE = subresourcePath('shop', 'dbg', 'terminal');
const ATTACH = subresourcePath('shop', 'dbg', 'attach');
const own = { host: '127.0.0.1:4242' };

describe('what the web proxy lets through', () => {
  const cases: [string, { method?: string; url: string; headers: IncomingHttpHeaders }, boolean, number | string][] = [
    ['the page with the token', { url: `/T0k3n${PAGE}`, headers: own }, false, PAGE],
    ['the page as localhost, from its own page', { url: `/T0k3n${PAGE}`, headers: { host: 'localhost:4242', origin: 'http://localhost:4242' } }, false, PAGE],
    ['an asset', { url: `/T0k3n${PAGE}/terminal.js`, headers: own }, false, `${PAGE}/terminal.js`],
    ['attach, with its query', { url: `/T0k3n${ATTACH}?tty=true&stdin=true`, headers: { ...own, origin: 'http://127.0.0.1:4242' } }, true, `${ATTACH}?tty=true&stdin=true`],
    ['no token', { url: PAGE, headers: own }, false, 403],
    ['another token', { url: `/T0k3m${PAGE}`, headers: own }, false, 403],
    ['a token cut short', { url: `/T0k3${PAGE}`, headers: own }, false, 403],
    ['another Origin', { url: `/T0k3n${PAGE}`, headers: { ...own, origin: 'https://evil.example' } }, false, 403],
    ['another Origin on the WebSocket', { url: `/T0k3n${ATTACH}`, headers: { ...own, origin: 'http://127.0.0.1:4243' } }, true, 403],
    ['another Host (DNS rebinding)', { url: `/T0k3n${PAGE}`, headers: { host: 'evil.example:4242' } }, false, 403],
    ['no Host', { url: `/T0k3n${PAGE}`, headers: {} }, false, 403],
    ['a POST', { method: 'POST', url: `/T0k3n${PAGE}`, headers: own }, false, 405],
    ['another session', { url: `/T0k3n${subresourcePath('shop', 'other', 'terminal')}`, headers: own }, false, 404],
    ['the rest of the API', { url: '/T0k3n/api/v1/secrets', headers: own }, false, 404],
    ['attach without an upgrade', { url: `/T0k3n${ATTACH}`, headers: own }, false, 404],
    ['the page as an upgrade', { url: `/T0k3n${PAGE}`, headers: own }, true, 404],
    ['a path that climbs', { url: `/T0k3n${PAGE}/../attach`, headers: own }, false, 404],
    ['another asset name', { url: `/T0k3n${PAGE}/x.js`, headers: own }, false, 404],
  ];
  for (const [name, req, upgrade, want] of cases) {
    it(`${typeof want === 'string' ? 'passes' : 'refuses'} ${name}`, () => {
      const v = decide({ method: req.method ?? 'GET', ...req }, SCOPE, upgrade);
      if (typeof want === 'string') assert.deepEqual(v.ok && v.path, want);
      else assert.equal(!v.ok && v.code, want, JSON.stringify(v));
    });
  }
});

describe('the web proxy, in front of a stand-in API server', () => {
  let api: Server;
  let proxy: WebProxy;
  let url: URL;
  const seen: IncomingHttpHeaders[] = [];

  before(async () => {
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });
    api = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/html', 'Set-Cookie': 'a=b', 'X-Frame-Options': 'DENY' });
      res.end(`page at ${req.url}`);
    });
    api.on('upgrade', (req, socket, head) => {
      seen.push(req.headers);
      if (req.headers.authorization !== 'Bearer alice-token') return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m: Buffer) => ws.send(Buffer.concat([Buffer.from('echo:'), m]))));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    proxy = new WebProxy({ server, httpsOptions: async () => ({ headers: { Authorization: 'Bearer alice-token' } }) }, { namespace: 'shop', name: 'dbg' });
    url = new URL(await proxy.listen());
  });

  after(async () => {
    await proxy.close();
    await new Promise<void>((r) => api.close(() => r()));
  });

  it('prints a URL on 127.0.0.1 with a long random token', () => {
    assert.equal(url.hostname, '127.0.0.1');
    assert.match(url.pathname, new RegExp(`^/[A-Za-z0-9_-]{43}${PAGE.replace(/\./g, '\\.')}$`));
  });

  it('passes the page on with the kubeconfig\'s credentials, never the browser\'s cookies', async () => {
    const res = await fetch(url, { headers: { Cookie: 'session=secret', Authorization: 'Bearer browser' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `page at ${PAGE}`);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('set-cookie'), null);
    const h = seen.at(-1) ?? {};
    assert.equal(h.authorization, 'Bearer alice-token');
    assert.equal(h.cookie, undefined);
  });

  it('refuses a request without the token before reaching the API server', async () => {
    const before = seen.length;
    const res = await fetch(`${url.origin}${PAGE}`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /needs the token/);
    assert.equal(seen.length, before);
  });

  it('relays the attach WebSocket both ways', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${url.port}${url.pathname.replace(/terminal$/, 'attach')}?tty=true`, ['v5.channel.k8s.io'], { origin: url.origin });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    assert.equal(ws.protocol, 'v5.channel.k8s.io');
    const reply = new Promise<string>((resolve) => ws.once('message', (m: Buffer) => resolve(m.toString())));
    ws.send('hi');
    assert.equal(await reply, 'echo:hi');
    ws.close();
  });

  it('refuses a WebSocket from another site', async () => {
    const code = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: url.port, path: url.pathname.replace(/terminal$/, 'attach'), headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', Origin: 'https://evil.example',
      } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.end();
    });
    assert.equal(code, 403);
  });
});
