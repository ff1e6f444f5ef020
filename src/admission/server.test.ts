import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpText, rawExchange, upgradeText, type RawTarget } from '../../test/support/raw-tls.js';
import { testCa, testLeaf, type TestCa } from '../../test/support/test-pki.js';
import { mutate } from './review.js';
import { WebhookServer } from './server.js';

/** Errors the server logged: a malformed request is the client's problem, never one of these. */
const errors: object[] = [];
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object) => void errors.push(o) };
const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

/** What an attacker would post: a review claiming system:masters. */
const FORGED = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
  request: {
    uid: 'u-1', operation: 'CREATE', namespace: 'shop', name: 'dbg',
    userInfo: { username: 'anyone', groups: ['system:masters'] },
    object: { metadata: { name: 'dbg', namespace: 'shop' }, spec: { podName: 'db', user: 'root' } },
  },
});

describe('the webhook server answers kube-apiserver only', () => {
  let server: WebhookServer;
  let frontProxyCa: TestCa;
  let anonymous: RawTarget;
  let apiserver: RawTarget;
  let stranger: RawTarget;
  let intruder: RawTarget;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown): void => void rejections.push(e);

  before(async () => {
    process.on('unhandledRejection', onRejection);
    const [servingCa, otherCa] = await Promise.all([testCa('serving-ca'), testCa('other-ca')]);
    frontProxyCa = await testCa('front-proxy-ca');
    const serving = { ...(await testLeaf(servingCa, 'execsession-webhook', true)), ca: servingCa.cert };
    server = new WebhookServer({ '/mutate': (r) => mutate(r, KEY, new Date()) }, { ca: frontProxyCa.cert, allowedNames: ['front-proxy-client'], description: 'the test CA, CN front-proxy-client' }, quiet);
    const port = await server.listen('127.0.0.1', 0, serving);
    anonymous = { host: '127.0.0.1', port };
    apiserver = { ...anonymous, client: await testLeaf(frontProxyCa, 'front-proxy-client') };
    stranger = { ...anonymous, client: await testLeaf(otherCa, 'front-proxy-client') };
    intruder = { ...anonymous, client: await testLeaf(frontProxyCa, 'intruder') };
  });

  after(async () => {
    process.off('unhandledRejection', onRejection);
    await server?.close();
  });

  const post = (body: string, path = '/mutate'): string => httpText('POST', path, { 'Content-Type': 'application/json' }, body);

  it('signs no stamp for a hand-written review without a client certificate (finding 3)', async () => {
    const a = await rawExchange(anonymous, post(FORGED));
    assert.equal(a.status, 401, a.text);
    assert.match(a.text, /no client certificate: the execsession admission webhook answers kube-apiserver only/);
    assert.doesNotMatch(a.text, /patch|signature/);
  });

  it('refuses a certificate of another CA (401) and one of another name (403)', async () => {
    const other = await rawExchange(stranger, post(FORGED));
    assert.equal(other.status, 401, other.text);
    assert.match(other.text, /not signed by a trusted CA/);
    const named = await rawExchange(intruder, post(FORGED));
    assert.equal(named.status, 403, named.text);
    assert.match(named.text, /CN \\"intruder\\" is not one of the allowed names \(front-proxy-client\)/);
  });

  it('answers kube-apiserver\'s certificate', async () => {
    const a = await rawExchange(apiserver, post(FORGED));
    assert.equal(a.status, 200, a.text);
    const review = JSON.parse(a.text.slice(a.text.indexOf('\r\n\r\n') + 4)) as { response: { uid: string; allowed: boolean; patch?: string } };
    assert.equal(review.response.uid, 'u-1');
    assert.ok(review.response.patch);
  });

  it('answers health checks without a certificate', async () => {
    for (const path of ['/healthz', '/readyz']) assert.equal((await rawExchange(anonymous, httpText('GET', path))).status, 200);
  });

  it('answers malformed requests with a 4xx, with and without a certificate', async () => {
    const cases: [string, string, number, number][] = [
      ['a request line that is not one', 'GARBAGE\r\n\r\n', 400, 400],
      ['a target new URL() refuses', httpText('POST', '//[', {}, '{}'), 401, 404],
      ['bad percent-encoding', httpText('POST', '/%ZZ?%FF', {}, '{}'), 401, 404],
      ['a path longer than Node takes', httpText('GET', `/${'a'.repeat(20_000)}`), 431, 431],
      ['an upgrade request', upgradeText('/mutate'), 401, 404],
      ['GET on a webhook path', httpText('GET', '/mutate'), 401, 404],
      ['a path named after an Object property', post('{}', '/constructor'), 401, 404],
      ['a body that is not JSON', post('{"request":'), 401, 400],
      ['JSON null', post('null'), 401, 400],
      ['a review without uid', post('{"request":{"userInfo":{}}}'), 401, 400],
      ['a review without userInfo', post('{"request":{"uid":"x"}}'), 401, 400],
      ['a body past the limit', post(`{"x":"${'a'.repeat((3 << 20) + 10)}"}`), 401, 413],
      ['a body whose chunked framing breaks', 'POST /mutate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 401, 400],
    ];
    for (const [name, payload, refused, answered] of cases) {
      for (const [as, target] of [['without a certificate', anonymous], ['as kube-apiserver', apiserver]] as const) {
        const a = await rawExchange(target, payload, 10_000);
        assert.equal(a.status, target === apiserver ? answered : refused, `${name}, ${as}: ${a.text.slice(0, 300)}`);
      }
    }
  });

  it('checks against a new CA once it is updated', async () => {
    const next = await testCa('front-proxy-ca-2');
    server.updateTrust({ ca: next.cert, allowedNames: [], description: 'the second test CA, any CN' });
    try {
      assert.equal((await rawExchange(apiserver, post(FORGED))).status, 401, 'the old CA is no longer trusted');
      assert.equal((await rawExchange({ ...anonymous, client: await testLeaf(next, 'anything') }, post(FORGED))).status, 200, 'any name of the new CA');
    } finally {
      server.updateTrust({ ca: frontProxyCa.cert, allowedNames: ['front-proxy-client'], description: 'the test CA, CN front-proxy-client' });
    }
  });

  it('let nothing escape a handler, and logged no error', () => {
    assert.deepEqual(rejections, []);
    assert.deepEqual(errors, []);
  });
});
