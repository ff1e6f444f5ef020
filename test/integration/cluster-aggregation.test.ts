/**
 * The local cluster routes an aggregated API to a process on the host: the
 * APIService becomes Available, kube-apiserver authenticates and authorizes the
 * caller before proxying, presents the front-proxy client certificate, and
 * forwards the identity in X-Remote-User / X-Remote-Group.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { apiServiceDnsName, registerApiService } from '../../tools/cluster/apiservice.js';
import { HOST_IP, paths } from '../../tools/cluster/config.js';
import { issue } from '../../tools/cluster/pki.js';
import { eventually, kubectl, kubectlOk, requireCluster, userKubeconfig } from '../../tools/support/cluster.js';

const GROUP = 'smoke-agg.execsession.dev';
const BASE = `/apis/${GROUP}/v1`;

describe('aggregated API on the host', () => {
  let server: Server;

  before(async () => {
    requireCluster();
    const ca = { cert: join(paths.pki, 'ca.crt'), key: join(paths.pki, 'ca.key') };
    const dns = apiServiceDnsName({ group: GROUP, version: 'v1', port: 0, caFile: ca.cert });
    const serving = await issue(ca, join(paths.pki, 'test'), 'smoke-agg', { cn: 'smoke-agg', server: { ips: [HOST_IP], dns: [dns] }, client: false });
    server = createServer({
      cert: readFileSync(serving.cert), key: readFileSync(serving.key),
      // Only kube-apiserver's front proxy may call: its client certificate is signed by the requestheader CA.
      ca: readFileSync(join(paths.pki, 'front-proxy-ca.crt')), requestCert: true, rejectUnauthorized: true,
    }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader('Content-Type', 'application/json');
      if (req.url === BASE) {
        res.end(JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${GROUP}/v1`, resources: [{ name: 'whoamis', namespaced: false, kind: 'WhoAmI', verbs: ['get'] }] }));
        return;
      }
      res.end(JSON.stringify({ peer: peer.subject.CN, user: req.headers['x-remote-user'], groups: req.headers['x-remote-group'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST_IP, resolve));
    const port = (server.address() as AddressInfo).port;
    await registerApiService({ group: GROUP, version: 'v1', port, caFile: ca.cert });
    await eventually('the APIService to be Available', async () =>
      (await kubectlOk(['get', 'apiservice', `v1.${GROUP}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}'])) === 'True', 60_000);
    // The proxy route is registered by another controller, shortly after availability.
    await eventually('discovery through the proxy', async () => (await kubectl(['get', '--raw', BASE])).code === 0, 30_000);
  });

  after(async () => {
    await kubectl(['delete', 'apiservice', `v1.${GROUP}`]);
    server?.close();
  });

  it('forwards the caller identity over the front-proxy certificate', async () => {
    const body = JSON.parse(await kubectlOk(['get', '--raw', `${BASE}/whoamis/me`])) as { peer: string; user: string; groups: string };
    assert.equal(body.peer, 'front-proxy-client');
    assert.equal(body.user, 'admin');
    assert.match(body.groups, /system:masters/);
  });

  it('refuses a caller without RBAC before proxying', async () => {
    const r = await kubectl(['get', '--raw', `${BASE}/whoamis/me`], { kubeconfig: await userKubeconfig('mallory') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /forbidden/i);
  });

  it('refuses a direct request without the front-proxy certificate', async () => {
    const port = (server.address() as AddressInfo).port;
    const r = await fetch(`https://${HOST_IP}:${port}${BASE}`).then(() => 'answered', (e: Error) => `refused: ${String((e.cause as Error | undefined)?.message ?? e.message)}`);
    assert.match(r, /^refused/);
  });
});
