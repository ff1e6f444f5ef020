import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kube } from '../k8s/kube.js';
import { ClientTrustError, loadWebhookClientTrust } from './client-trust.js';

const CLUSTER_CA = '-----BEGIN CERTIFICATE-----\ncluster\n-----END CERTIFICATE-----\n';
const FILE_CA = '-----BEGIN CERTIFICATE-----\nfile\n-----END CERTIFICATE-----\n';

/** A Kube whose ConfigMap kube-system/extension-apiserver-authentication has `data`, and that counts reads. */
function kube(data: Record<string, string> | undefined, reads = { n: 0 }): Kube {
  return { getConfigMap: async () => (reads.n++, data ? { data } : undefined) } as unknown as Kube;
}

const published = { 'requestheader-client-ca-file': CLUSTER_CA, 'requestheader-allowed-names': '["front-proxy-client"]' };
const files = (path: string): Promise<string> => (path === '/etc/ca.pem' ? Promise.resolve(FILE_CA) : Promise.reject(new Error(`ENOENT: no such file, open '${path}'`)));

describe('whom the webhook trusts', () => {
  it('by default, the cluster\'s requestheader CA and allowed names: kube-apiserver\'s front-proxy certificate', async () => {
    const t = await loadWebhookClientTrust(kube(published), { caFile: '' }, files);
    assert.deepEqual(t, { ca: CLUSTER_CA, allowedNames: ['front-proxy-client'], description: 'the requestheader CA of ConfigMap kube-system/extension-apiserver-authentication, CN front-proxy-client' });
  });

  it('an empty names flag accepts any certificate of the CA', async () => {
    const t = await loadWebhookClientTrust(kube(published), { caFile: '', names: [] }, files);
    assert.deepEqual([t.allowedNames, t.description.endsWith('any CN')], [[], true]);
  });

  it('a CA file with names of its own does not read the cluster\'s settings', async () => {
    const reads = { n: 0 };
    const t = await loadWebhookClientTrust(kube(undefined, reads), { caFile: '/etc/ca.pem', names: ['kube-apiserver'] }, files);
    assert.deepEqual([t.ca, t.allowedNames, reads.n], [FILE_CA, ['kube-apiserver'], 0]);
  });

  it('a CA file without names takes the cluster\'s allowed names', async () => {
    const t = await loadWebhookClientTrust(kube(published), { caFile: '/etc/ca.pem' }, files);
    assert.deepEqual([t.ca, t.allowedNames], [FILE_CA, ['front-proxy-client']]);
  });

  const failures: [string, Kube, { caFile: string; names?: string[] }, RegExp][] = [
    ['no requestheader CA published', kube(undefined), { caFile: '' }, /requestheader CA in ConfigMap kube-system\/extension-apiserver-authentication, which cannot be read: .*or set --webhook-client-ca/],
    ['an unreadable CA file', kube(published), { caFile: '/nope.pem', names: [] }, /--webhook-client-ca \/nope\.pem cannot be read: ENOENT/],
    ['a CA file without a certificate', kube(published), { caFile: '/etc/key.pem', names: [] }, /--webhook-client-ca \/etc\/key\.pem holds no PEM certificate/],
  ];
  for (const [name, k, cfg, message] of failures) {
    it(`fails, saying what to set, with ${name}`, async () => {
      const read = (p: string): Promise<string> => (p === '/etc/key.pem' ? Promise.resolve('-----BEGIN PRIVATE KEY-----') : files(p));
      await assert.rejects(loadWebhookClientTrust(k, cfg, read), (e: unknown) => {
        assert.ok(e instanceof ClientTrustError, String(e));
        assert.match(e.message, message);
        return true;
      });
    });
  }
});
