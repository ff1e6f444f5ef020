import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { issueServingCerts } from '../../src/certs/certs.js';
import { reuseConnections } from '../../src/k8s/connections.js';

/** A real HTTPS server that answers any GET with a Namespace and counts TLS handshakes. */
describe('kept-alive connections to kube-apiserver', () => {
  let server: Server;
  let ca = '';
  let handshakes = 0;

  before(async () => {
    const certs = await issueServingCerts({ dnsNames: ['localhost'], ips: ['127.0.0.1'], now: new Date(), validDays: 1 });
    ca = certs.ca;
    server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.url?.split('/').pop() } }));
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(ca).toString('base64') }],
      users: [{ name: 'u', token: 'secret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  }

  async function handshakesFor(kc: KubeConfig, requests: number): Promise<number> {
    const core = kc.makeApiClient(CoreV1Api);
    const before = handshakes;
    for (let i = 0; i < requests; i++) assert.equal((await core.readNamespace({ name: `ns${i}` })).metadata?.name, `ns${i}`);
    return handshakes - before;
  }

  it('client-node alone opens a TLS connection per request', async () => {
    assert.equal(await handshakesFor(kubeConfig(), 5), 5);
  });

  it('with reuseConnections, one connection serves them all, sequential or at once', async () => {
    const kc = reuseConnections(kubeConfig());
    assert.equal(await handshakesFor(kc, 5), 1);
    const core = kc.makeApiClient(CoreV1Api);
    const before = handshakes;
    await Promise.all([1, 2, 3].map((i) => core.readNamespace({ name: `p${i}` })));
    assert.ok(handshakes - before <= 2, `${handshakes - before} new connections for 3 requests at once, with one kept alive`);
  });

  it('closes a kept-alive connection after it idles', async () => {
    const kc = reuseConnections(kubeConfig(), 200);
    assert.equal(await handshakesFor(kc, 2), 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await handshakesFor(kc, 1), 1, 'a new connection after the idle one was closed');
  });
});
