import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import type { Kube } from '../k8s/kube.js';
import { certsFromSecret } from './cert-source.js';
import { issueServingCerts } from './certs.js';
import { ensureOperatorSecrets, ensureStampKey } from './secret.js';

const NS = 'execsession-system';
const REQ = { dnsNames: ['execsession-webhook.execsession-system.svc'], ips: [], now: new Date(), validDays: 365 };

/** Secrets in memory with resourceVersions; `conflictOnce` makes the next write lose a race. */
class Secrets {
  readonly items = new Map<string, V1Secret>();
  writes = 0;
  reads = 0;
  conflictOnce = false;
  forbidden = false;
  private version = 1;

  kube(): Kube {
    return {
      getSecret: async (ns: string, name: string) => {
        this.reads++;
        if (this.forbidden) throw new ApiException(403, 'forbidden', { message: 'secrets is forbidden' }, {});
        return structuredClone(this.items.get(`${ns}/${name}`));
      },
      createSecret: async (s: V1Secret) => this.write(s, false),
      replaceSecret: async (s: V1Secret) => this.write(s, true),
    } as unknown as Kube;
  }

  data(name: string): Record<string, string> {
    return Object.fromEntries(Object.entries(this.items.get(`${NS}/${name}`)?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  put(name: string, data: Record<string, string>): void {
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    this.items.set(`${NS}/${name}`, { metadata: { namespace: NS, name, resourceVersion: String(this.version++) }, data: encoded });
  }

  private async write(s: V1Secret, replace: boolean): Promise<V1Secret> {
    const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
    const current = this.items.get(key);
    if (this.conflictOnce || (replace ? current?.metadata?.resourceVersion !== s.metadata?.resourceVersion : current)) {
      this.conflictOnce = false;
      // The other replica's write: a stamp key of its own.
      this.put(s.metadata?.name ?? '', { 'stamp.key': 'k'.repeat(32) });
      throw new ApiException(409, 'conflict', {}, {});
    }
    this.writes++;
    const stored = { ...s, metadata: { ...s.metadata, resourceVersion: String(this.version++) } };
    this.items.set(key, stored);
    return stored;
  }
}

describe('the operator\'s Secret', () => {
  it('with certificates from elsewhere, holds the stamp key alone and keeps it', async () => {
    const secrets = new Secrets();
    const key = await ensureStampKey(secrets.kube(), NS, 'execsession-operator');
    assert.equal(key.length, 32);
    assert.deepEqual(Object.keys(secrets.data('execsession-operator')), ['stamp.key']);
    assert.deepEqual(await ensureStampKey(secrets.kube(), NS, 'execsession-operator'), key);
    assert.equal(secrets.writes, 1, 'written once');
  });

  it('leaves certificates of earlier self-managed runs alone, and self-managed runs keep its stamp key', async () => {
    const secrets = new Secrets();
    const first = await ensureOperatorSecrets(secrets.kube(), NS, 'execsession-operator', REQ);
    assert.deepEqual(await ensureStampKey(secrets.kube(), NS, 'execsession-operator'), first.stampKey);
    assert.deepEqual(Object.keys(secrets.data('execsession-operator')).sort(), ['ca.crt', 'stamp.key', 'tls.crt', 'tls.key']);

    const fresh = new Secrets();
    const stampKey = await ensureStampKey(fresh.kube(), NS, 'execsession-operator');
    const back = await ensureOperatorSecrets(fresh.kube(), NS, 'execsession-operator', REQ);
    assert.deepEqual(back.stampKey, stampKey, 'switching back to self-managed adds certificates, same stamp key');
    assert.equal(fresh.data('execsession-operator')['tls.crt'], back.certs.cert);
  });

  it('takes the stamp key another replica wrote first', async () => {
    const secrets = new Secrets();
    secrets.conflictOnce = true;
    assert.equal((await ensureStampKey(secrets.kube(), NS, 'execsession-operator')).toString(), 'k'.repeat(32));
  });
});

describe('certificates from --cert-secret', () => {
  const source = (s: Secrets): ReturnType<typeof certsFromSecret> => certsFromSecret(s.kube(), NS, 'execsession-operator', 'execsession-serving', 60_000);

  it('serves the Secret\'s certificates and reads the stamp key once', async () => {
    const secrets = new Secrets();
    const certs = await issueServingCerts(REQ);
    secrets.put('execsession-serving', { 'tls.crt': certs.cert, 'tls.key': certs.key, 'ca.crt': certs.ca });
    const s = source(secrets);
    const first = await s.load(REQ);
    assert.deepEqual(first.certs, certs);
    const renewed = await issueServingCerts(REQ);
    secrets.put('execsession-serving', { 'tls.crt': renewed.cert, 'tls.key': renewed.key, 'ca.crt': renewed.ca });
    secrets.reads = 0;
    const second = await s.load(REQ);
    assert.deepEqual(second.certs, renewed);
    assert.deepEqual(second.stampKey, first.stampKey);
    assert.equal(secrets.reads, 1, 'only the certificate Secret is read again');
    assert.equal(secrets.data('execsession-serving')['stamp.key'], undefined, 'the certificate Secret is never written');
  });

  it('fails before writing anything when the Secret is missing', async () => {
    const secrets = new Secrets();
    await assert.rejects(source(secrets).load(REQ), /Secret execsession-system\/execsession-serving \(--cert-secret\) does not exist/);
    assert.equal(secrets.writes, 0);
  });

  it('says which permission is missing when the Secret may not be read', async () => {
    const secrets = new Secrets();
    secrets.forbidden = true;
    await assert.rejects(source(secrets).load(REQ), /could not read Secret execsession-system\/execsession-serving \(--cert-secret\): the operator may not get it \(config\/cert-manager\/role\.yaml/);
  });
});
