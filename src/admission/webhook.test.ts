import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { connect } from 'node:tls';
import type { V1MutatingWebhookConfiguration, V1Secret } from '@kubernetes/client-node';
import { testCa, type TestCa } from '../../test/support/test-pki.js';
import type { Kube } from '../k8s/kube.js';
import { issueServingCerts, type ServingCerts } from '../certs/certs.js';
import { Webhook, certNames, dialedNames } from './webhook.js';

const SERVICE = { service: { namespace: 'execsession-system', name: 'execsession-webhook', port: 443 } };
const API = 'execsession-api.execsession-system.svc';

describe('serving certificate names', () => {
  it('are what kube-apiserver dials: the Service\'s .svc name or the URL\'s host, and the API\'s Service', () => {
    assert.deepEqual(dialedNames(SERVICE, [API]), { dnsNames: ['execsession-webhook.execsession-system.svc', API], ips: [] });
    assert.deepEqual(dialedNames({ url: 'https://10.250.0.1:9443' }, [API]), { dnsNames: [API], ips: ['10.250.0.1'] });
    assert.deepEqual(dialedNames({ url: 'https://[fd00::1]:9443' }), { dnsNames: [], ips: ['fd00::1'] });
    assert.deepEqual(dialedNames({ url: 'https://hooks.example:9443' }, [API]), { dnsNames: ['hooks.example', API], ips: [] });
  });

  it('in the operator\'s own certificate, also carry each Service name\'s .cluster.local form', () => {
    assert.deepEqual(certNames(SERVICE, [API]).dnsNames, [
      'execsession-webhook.execsession-system.svc', 'execsession-webhook.execsession-system.svc.cluster.local', API, `${API}.cluster.local`,
    ]);
    assert.deepEqual(certNames({ url: 'https://10.250.0.1:9443' }, [API]), { dnsNames: [API, `${API}.cluster.local`], ips: ['10.250.0.1'] });
  });
});

describe('the webhook with --cert-secret', () => {
  let clientCa: TestCa;
  before(async () => {
    clientCa = await testCa('front-proxy-ca');
  });

  /** Secrets in memory, and every registration's caBundle (decoded). */
  function fakeKube(secrets: Map<string, V1Secret>, registered: string[]): Kube {
    return {
      getSecret: async (_ns: string, name: string) => structuredClone(secrets.get(name)),
      createSecret: async (s: V1Secret) => {
        secrets.set(s.metadata?.name ?? '', s);
        return s;
      },
      getConfigMap: async () => ({ data: { 'requestheader-client-ca-file': clientCa.cert, 'requestheader-allowed-names': '["front-proxy-client"]' } }),
      applyWebhookConfigurations: async (m: V1MutatingWebhookConfiguration) => {
        registered.push(Buffer.from(m.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
      },
    } as unknown as Kube;
  }

  const tlsSecret = (c: ServingCerts): V1Secret => ({
    metadata: { name: 'execsession-serving' },
    data: { 'tls.crt': Buffer.from(c.cert).toString('base64'), 'tls.key': Buffer.from(c.key).toString('base64'), 'ca.crt': Buffer.from(c.ca).toString('base64') },
  });

  /** Resolves once the TLS client trusting only `ca` accepts the server's certificate, else with the error. */
  function handshake(port: number, ca: string): Promise<Error | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.on('error', resolve);
    });
  }

  it('serves and registers a renewal at the next refresh, and re-registers nothing unchanged', async (t) => {
    const req = { dnsNames: [], ips: ['127.0.0.1'], now: new Date(), validDays: 30 };
    const [first, second] = [await issueServingCerts(req), await issueServingCerts(req)];
    const secrets = new Map([['execsession-serving', tlsSecret(first)]]);
    const registered: string[] = [];
    let port = 0;
    const log = {
      debug: () => undefined, warn: () => undefined, error: () => undefined,
      info: (obj: object, msg?: string) => {
        if (msg === 'admission webhook registered') port = (obj as { port: number }).port;
      },
    };
    t.mock.timers.enable({ apis: ['setInterval'] });
    const webhook = new Webhook(fakeKube(secrets, registered), {
      namespace: 'execsession-system', secretName: 'execsession-operator', certSecret: 'execsession-serving', certRefreshMs: 60_000,
      listenHost: '127.0.0.1', listenPort: 0, endpoint: { url: 'https://127.0.0.1' }, client: { caFile: '' },
    }, log);
    const refreshed: string[] = [];
    webhook.onRefresh = (c) => refreshed.push(c.ca);
    await webhook.start();
    try {
      assert.deepEqual(registered, [first.ca]);
      assert.deepEqual(Object.keys(secrets.get('execsession-operator')?.data ?? {}), ['stamp.key'], 'the operator\'s own Secret holds the stamp key alone');
      assert.equal(await handshake(port, first.ca), undefined);

      t.mock.timers.tick(60_000);
      await setImmediatePromise();
      assert.deepEqual(registered, [first.ca], 'nothing changed, nothing registered');

      secrets.set('execsession-serving', tlsSecret(second));
      t.mock.timers.tick(60_000);
      await eventually(() => registered.length === 2);
      assert.deepEqual(registered, [first.ca, second.ca]);
      assert.deepEqual(refreshed, [second.ca], 'the aggregated API is handed the new certificates');
      assert.equal(await handshake(port, second.ca), undefined, 'the new certificate is served');
    } finally {
      await webhook.stop();
    }
  });
});

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await setImmediatePromise();
  assert.ok(check(), 'timed out');
}
