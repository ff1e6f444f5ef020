/**
 * Every port of the operator against what no HTTP client sends (findings 1 and
 * 2, and beyond): malformed request lines, headers and targets (`//[`, `%ZZ`,
 * oversized), broken WebSocket upgrades, bad, huge and invalid JSON bodies, plain
 * TCP to a TLS port and clients that leave mid-request, to the admission webhook
 * and the aggregated API, each without a client certificate and with
 * kube-apiserver's front-proxy certificate. Every request is answered with a 4xx
 * (or its connection closed: plain TCP, CONNECT), and afterwards the operator's
 * process is alive, both health checks answer, and attach works.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HOST_IP } from '../../tools/cluster/config.js';
import { AttachRefused, attach } from '../support/attach.js';
import { clusterPair, type PemPair } from '../support/cluster-certs.js';
import { ADMIN_KUBECONFIG, eventually, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { API_GROUP_VERSION, OperatorProcess, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { httpText, rawExchange, sendAndLeave, upgradeText, type RawAnswer, type RawTarget } from '../support/raw-tls.js';
import { createSession, waitForPhase } from '../support/sessions.js';

type Port = 'webhook' | 'api';

/** A request, by the port it goes to; `closes`: a closed connection without an answer is fine too. */
interface Case {
  name: string;
  payload: (port: Port) => string | Buffer;
  closes?: boolean;
}

/** Plain TCP to a TLS port: resolves once the server has closed the connection (or after `timeoutMs`, with closed false). */
function plainExchange(port: number, payload: string): Promise<{ closed: boolean; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = tcpConnect({ host: HOST_IP, port }, () => socket.write(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, text });
    }, 5_000);
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, text });
    });
  });
}

describe('every port of the operator, given what no HTTP client sends', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let proxy: PemPair;
  let ports: Record<Port, number>;

  /** kube-apiserver forwards the admin (the live session's requester) like this. */
  const admin = { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' };
  const sessionPath = (name: string, sub: string): string => `/apis/${API_GROUP_VERSION}/namespaces/${ns.name}/execsessions/${name}/${sub}`;
  /** A POST with a body, where each port reads bodies: the webhook's /mutate, the API's revoke of a session that does not exist. */
  const post = (port: Port, body: string, headers: Record<string, string> = {}): string =>
    httpText('POST', port === 'webhook' ? '/mutate' : sessionPath('nosuch', 'revoke'), { ...admin, 'Content-Type': 'application/json', ...headers }, body);

  /** The same POST with a body of raw bytes. */
  const postBytes = (port: Port, body: Buffer): Buffer => {
    const head = post(port, '').replace('\r\n\r\n', `\r\nContent-Length: ${body.length}\r\n\r\n`);
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  };

  const cases: Case[] = [
    { name: 'a request line that is not one', payload: () => 'GARBAGE\r\n\r\n' },
    { name: 'binary bytes', payload: () => Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]) },
    { name: 'an HTTP/2 preface', payload: () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
    { name: 'HTTP/3.0', payload: () => 'GET / HTTP/3.0\r\nHost: a\r\n\r\n' },
    { name: 'no Host header', payload: () => 'GET /healthz HTTP/1.1\r\n\r\n' },
    { name: 'line feeds without carriage returns', payload: () => 'GET /%ZZ HTTP/1.1\nHost: a\n\n' },
    { name: 'a target new URL() refuses (finding 1)', payload: () => httpText('GET', '//[', admin) },
    { name: 'the same as a WebSocket upgrade (finding 1)', payload: () => upgradeText('//[', admin) },
    { name: 'bad percent-encoding in path and query', payload: () => httpText('GET', '/%ZZ/%?%FF=%&command=%E0%A4%A', admin) },
    { name: 'an attach upgrade with bad percent-encoding', payload: () => upgradeText(`${sessionPath('nosuch', 'attach')}?command=%ZZ&tty=%FF&stdin=%`, admin) },
    // Longer than the largest request head any port takes (the aggregated API's 256 KiB, src/apiserver/server.ts).
    { name: 'a path longer than Node reads', payload: () => httpText('GET', `/${'a'.repeat(300_000)}`, admin) },
    { name: 'a header longer than Node reads', payload: () => httpText('GET', '/healthz', { 'X-Big': 'a'.repeat(300_000) }) },
    { name: 'thousands of headers', payload: () => `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n` },
    { name: 'a control character in a header value', payload: () => 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n' },
    { name: 'a space in a header name', payload: () => 'GET / HTTP/1.1\r\nHost: a\r\nX Bad: y\r\n\r\n' },
    { name: 'a Content-Length that is no number', payload: () => 'POST /mutate HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n' },
    { name: 'Content-Length and Transfer-Encoding together', payload: () => 'POST /mutate HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
    { name: 'a malformed chunk', payload: (p) => `POST ${p === 'webhook' ? '/mutate' : sessionPath('nosuch', 'revoke')} HTTP/1.1\r\nHost: a\r\nX-Remote-User: admin\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n` },
    { name: 'an extra header with malformed percent-encoding (finding 2)', payload: (p) => post(p, '{}', { 'X-Remote-Extra-%FF': 'x' }) },
    { name: 'the same on an attach upgrade (finding 2)', payload: () => upgradeText(sessionPath('nosuch', 'attach'), { ...admin, 'X-Remote-Extra-%ZZ': 'x' }) },
    { name: 'an attach upgrade with a bad Sec-WebSocket-Key', payload: () => upgradeText(sessionPath('nosuch', 'attach'), { ...admin, 'Sec-WebSocket-Key': 'short' }) },
    { name: 'an attach upgrade without subprotocols', payload: () => upgradeText(sessionPath('nosuch', 'attach'), { ...admin, 'Sec-WebSocket-Protocol': '' }) },
    { name: 'an h2c upgrade', payload: () => 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n\r\n' },
    { name: 'a body that is not JSON', payload: (p) => post(p, '{"reason":') },
    { name: 'JSON null', payload: (p) => post(p, 'null') },
    { name: 'JSON that is not an object', payload: (p) => post(p, '[1,2]') },
    { name: 'deeply nested JSON', payload: (p) => post(p, '['.repeat(60_000)) },
    { name: 'JSON with __proto__', payload: (p) => post(p, '{"__proto__":{"polluted":1},"request":{"__proto__":{"uid":"x"}},"reason":"r"}') },
    { name: 'invalid UTF-8 in a body', payload: (p) => postBytes(p, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
    { name: 'a body past the limit', payload: (p) => post(p, `{"reason":"${'x'.repeat(p === 'webhook' ? (3 << 20) + 100 : 70_000)}"}`), closes: true },
    { name: 'Expect: 100-continue with a bad body', payload: (p) => post(p, '{', { Expect: '100-continue' }) },
    { name: 'an Expect the server does not know', payload: (p) => post(p, '{}', { Expect: 'bogus' }) },
    { name: 'a CONNECT request', payload: () => 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', closes: true },
  ];

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('malformed');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    operator = new OperatorProcess();
    await operator.start();
    await waitForApi();
    // A live session of the admin's, so that upgrades can get as far as the WebSocket handshake.
    await createSession(ns.name, 'live', { podName: 'target', user: 'alice', ttl: '30m' });
    await waitForPhase(ns.name, 'live', ['Ready']);
    proxy = clusterPair('front-proxy-client');
    ports = { webhook: operator.webhookPort, api: operator.apiPort };
    assert.ok(ports.webhook > 0 && ports.api > 0, operator.log());
  });

  after(async () => {
    await operator?.stop();
    await ns?.remove();
  });

  const targets = (p: Port): [string, RawTarget][] => [
    ['without a client certificate', { host: HOST_IP, port: ports[p] }],
    ['with the front-proxy certificate', { host: HOST_IP, port: ports[p], client: proxy }],
  ];

  /** What was wrong with the answers to one case on one port, with and without credentials. */
  async function misanswered(c: Case, p: Port): Promise<string[]> {
    const wrong: string[] = [];
    for (const [as, target] of targets(p)) {
      const a: RawAnswer = await rawExchange(target, c.payload(p), 15_000);
      const answered = a.status !== undefined && a.status >= 400 && a.status < 500;
      const closed = c.closes === true && a.status === undefined && !a.timedOut;
      if (!answered && !closed) wrong.push(`${p}, ${c.name}, ${as}: ${a.timedOut ? 'no answer within 15 s' : a.text.slice(0, 200) || a.error || 'closed without an answer'}`);
    }
    return wrong;
  }

  it('answers each with a 4xx, with and without credentials, on every port', async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      for (const p of ['webhook', 'api'] as const) wrong.push(...await misanswered(c, p));
    }
    assert.deepEqual(wrong, []);
  });

  it('answers the reported cases as designed', async () => {
    const api = targets('api');
    const [anonymousApi, proxiedApi] = [api[0]![1], api[1]![1]];
    // Finding 1: refused before the target is read, then a 404 for the front proxy.
    assert.equal((await rawExchange(anonymousApi, upgradeText('//['))).status, 401);
    assert.equal((await rawExchange(proxiedApi, upgradeText('//[', admin))).status, 404);
    // Finding 2: a malformed extra key is a 400, on requests and on upgrades.
    const extra = await rawExchange(proxiedApi, post('api', '{}', { 'X-Remote-Extra-%FF': 'x' }));
    assert.equal(extra.status, 400, extra.text);
    assert.match(extra.text, /is not valid percent-encoding/);
    assert.equal((await rawExchange(proxiedApi, upgradeText(sessionPath('live', 'attach'), { ...admin, 'X-Remote-Extra-%ZZ': 'x' }))).status, 400);
    // Finding 3: the webhook refuses a review without kube-apiserver's certificate.
    const review = JSON.stringify({ request: { uid: 'x', operation: 'CREATE', userInfo: { username: 'anyone', groups: ['system:masters'] }, object: { metadata: { name: 'x' }, spec: { podName: 'target', user: 'root' } } } });
    assert.equal((await rawExchange({ host: HOST_IP, port: ports.webhook }, post('webhook', review))).status, 401);
  });

  it('refuses broken WebSocket handshakes to a live session, and clients that leave while it prepares, without keeping their attach slots', async () => {
    const proxied: RawTarget = { host: HOST_IP, port: ports.api, client: proxy };
    const attachPath = `${sessionPath('live', 'attach')}?command=id&tty=false&stdin=false`;
    // More than the attach limit (4): each goes through the helper's inspection, then fails the handshake.
    for (let i = 0; i < 6; i++) {
      const bad = await rawExchange(proxied, upgradeText(attachPath, { ...admin, 'Sec-WebSocket-Key': 'short' }), 30_000);
      assert.equal(bad.status, 400, bad.text);
      const version = await rawExchange(proxied, upgradeText(attachPath, { ...admin, 'Sec-WebSocket-Version': '99' }), 30_000);
      assert.ok(version.status === 400 || version.status === 426, version.text);
    }
    await Promise.all(Array.from({ length: 6 }, () => sendAndLeave(proxied, upgradeText(attachPath, admin), 50)));
    await Promise.all(Array.from({ length: 6 }, () => sendAndLeave({ host: HOST_IP, port: ports.api }, 'GET /healthz HTTP/1.1\r\nHost: a\r\n', 10)));
    await Promise.all(['webhook', 'api'].map((p) => sendAndLeave({ host: HOST_IP, port: ports[p as Port] }, post(p as Port, '{"reason":"x"').slice(0, 60), 10)));
    // Plain TCP to the TLS ports: refused at the TLS layer, connection closed.
    for (const p of ['webhook', 'api'] as const) {
      const plain = await plainExchange(ports[p], 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.ok(plain.closed, `${p}: the connection stays open`);
      assert.doesNotMatch(plain.text, /^HTTP\/1\.1 200/);
    }
  });

  it('is still up afterwards: its process, both health checks, the aggregated API and attach', async () => {
    const pid = operator.pid;
    assert.ok(pid, 'the operator has a pid');
    assert.doesNotThrow(() => process.kill(pid, 0), `operator process ${pid} is gone:\n${operator.log()}`);
    for (const p of ['webhook', 'api'] as const) {
      const health = await rawExchange({ host: HOST_IP, port: ports[p] }, httpText('GET', '/healthz'));
      assert.equal(health.status, 200, `${p}: ${health.text}`);
    }
    await waitForApi(30_000);
    // Every attach slot comes back: the limit's worth (4) of attaches run side by side.
    await eventually('4 attaches to run side by side', async () => {
      const tries = await Promise.allSettled(Array.from({ length: 4 }, () => attach(ADMIN_KUBECONFIG, ns.name, 'live', { command: ['id', '-un'], tty: false, stdin: false })));
      const runs = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
      const ends = await Promise.all(runs.map((a) => a.done));
      runs.forEach((a, i) => {
        assert.equal(a.stdout().trim(), 'alice', a.stderr());
        assert.equal(ends[i]?.status?.status, 'Success');
      });
      const refused = tries.flatMap((t) => (t.status === 'rejected' ? [t.reason as unknown] : []));
      if (refused.some((e) => !(e instanceof AttachRefused && e.code === 429))) throw new Error(refused.map(String).join('; '));
      return runs.length === 4;
    }, 30_000, 1_000);
    assert.doesNotMatch(operator.log(5000), /Invalid URL|URIError|uncaught|unhandled|request handler failed|upgrade handler failed/i);
  });
});
