// GET /metrics on the aggregated API's HTTPS port (ADR 22): only a bearer token
// kube-apiserver authenticates (TokenReview), of an identity that may get the
// non-resource URL /metrics (SubjectAccessReview), reads the registry. The
// server is the real ApiServer over TLS; the two reviews are answered by a
// table of tokens, and every review it asked for is recorded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testCa, testLeaf } from '../../test/support/test-pki.js';
import { httpText, rawExchange, type RawTarget } from '../../test/support/raw-tls.js';
import type { Person } from '../api/types.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import type { Attacher } from './attach.js';
import { ALLOW_CACHE_MS, DENY_CACHE_MS, MetricsEndpoint, bearerToken } from './metrics-endpoint.js';
import { ApiServer } from './server.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Tokens kube-apiserver would authenticate, and who may get /metrics. */
const TOKENS: Record<string, Person> = {
  'prometheus-token': { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'] },
  'alice-token': { username: 'alice', groups: ['developers'] },
};
const MAY_SCRAPE = new Set(['system:serviceaccount:monitoring:prometheus']);

class Reviews {
  calls: string[] = [];
  down = false;
  readonly kube = {
    reviewToken: async (token: string): Promise<Person | undefined> => {
      this.calls.push(`TokenReview ${token}`);
      if (this.down) throw new Error('connect ECONNREFUSED 10.0.0.1:6443');
      return TOKENS[token];
    },
    nonResourceAccessReview: async (who: Person, path: string, verb: string) => {
      this.calls.push(`SubjectAccessReview ${who.username} ${verb} ${path}`);
      return { allowed: MAY_SCRAPE.has(who.username), reason: MAY_SCRAPE.has(who.username) ? 'RBAC: allowed' : '' };
    },
  };
}

describe('GET /metrics on the aggregated API port', () => {
  const reviews = new Reviews();
  const metrics = new OperatorMetrics();
  let server: ApiServer;
  let anonymous: RawTarget;
  let proxy: RawTarget;
  const get = (target: RawTarget, token?: string) => rawExchange(target, httpText('GET', '/metrics', token ? { Authorization: `Bearer ${token}` } : {}));

  before(async () => {
    const [servingCa, frontProxyCa] = await Promise.all([testCa('serving-ca'), testCa('front-proxy-ca')]);
    const serving = { ...(await testLeaf(servingCa, 'execsession-api', true)), ca: servingCa.cert };
    const attacher = { kube: {}, close: () => undefined } as unknown as Attacher;
    server = new ApiServer({
      attacher, log: quiet, stampKey: () => Buffer.from('k'), actions: {},
      metrics: new MetricsEndpoint({ kube: reviews.kube, metrics, log: quiet }),
    }, { clientCA: frontProxyCa.cert, allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'], groupHeaders: ['X-Remote-Group'], extraHeaderPrefixes: ['X-Remote-Extra-'] });
    const port = await server.listen('127.0.0.1', 0, serving);
    anonymous = { host: '127.0.0.1', port };
    proxy = { ...anonymous, client: await testLeaf(frontProxyCa, 'front-proxy-client') };
    metrics.denied('admission', 'NoPolicy');
  });

  after(async () => {
    await server?.close();
  });

  it('serves the exposition to an authorized scraper, after a TokenReview and a SubjectAccessReview for get /metrics', async () => {
    reviews.calls = [];
    const r = await get(anonymous, 'prometheus-token');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /content-type: text\/plain; version=0\.0\.4/i);
    assert.match(r.text, /^execsession_denials_total\{stage="admission",reason="NoPolicy"\} 1$/m);
    assert.match(r.text, /^# TYPE workqueue_depth gauge$/m);
    assert.deepEqual(reviews.calls, ['TokenReview prometheus-token', 'SubjectAccessReview system:serviceaccount:monitoring:prometheus get /metrics']);
  });

  it('refuses without a token (401), an unknown token (401), and an identity without the RBAC (403), saying what to do', async () => {
    const none = await get(anonymous);
    assert.equal(none.status, 401, none.text);
    assert.match(none.text, /needs a bearer token/);
    const unknown = await get(anonymous, 'forged');
    assert.equal(unknown.status, 401, unknown.text);
    assert.match(unknown.text, /does not authenticate this bearer token/);
    const alice = await get(anonymous, 'alice-token');
    assert.equal(alice.status, 403, alice.text);
    assert.match(alice.text, /\\"alice\\" may not get \/metrics; bind it a ClusterRole with nonResourceURLs/);
    for (const r of [none, unknown, alice]) assert.doesNotMatch(r.text, /execsession_denials_total/);
  });

  it('the front proxy\'s certificate is no pass: kube-apiserver never forwards /metrics, and a forwarded user is not a token', async () => {
    const r = await rawExchange(proxy, httpText('GET', '/metrics', { 'X-Remote-User': 'system:serviceaccount:monitoring:prometheus' }));
    assert.equal(r.status, 401, r.text);
    assert.doesNotMatch(r.text, /execsession_/);
  });

  it('answers 503 when the reviews cannot be made, and serves nothing', async () => {
    reviews.down = true;
    try {
      const r = await get(anonymous, 'never-seen-token');
      assert.equal(r.status, 503, r.text);
      assert.match(r.text, /could not check the scraper's token with kube-apiserver: connect ECONNREFUSED/);
      assert.doesNotMatch(r.text, /execsession_denials_total/);
    } finally {
      reviews.down = false;
    }
  });
});

describe('MetricsEndpoint: its cache of verdicts', () => {
  it('reuses an allow for a minute and a refusal for ten seconds, then asks kube-apiserver again', async () => {
    const reviews = new Reviews();
    let now = 0;
    const e = new MetricsEndpoint({ kube: reviews.kube, metrics: new OperatorMetrics(), log: quiet, now: () => now });
    assert.equal((await e.authorize('prometheus-token')).code, 200);
    assert.equal((await e.authorize('alice-token')).code, 403);
    assert.equal(reviews.calls.length, 4);
    now = DENY_CACHE_MS - 1;
    await e.authorize('prometheus-token');
    await e.authorize('alice-token');
    assert.equal(reviews.calls.length, 4, 'both cached');
    now = DENY_CACHE_MS + 1;
    await e.authorize('alice-token');
    assert.equal(reviews.calls.length, 6, 'the refusal is asked again');
    now = ALLOW_CACHE_MS + 1;
    await e.authorize('prometheus-token');
    assert.equal(reviews.calls.length, 8, 'the allow is asked again');
  });

  it('reads only a Bearer authorization', () => {
    assert.equal(bearerToken({ headers: { authorization: 'Bearer abc.def' } }), 'abc.def');
    assert.equal(bearerToken({ headers: { authorization: 'bearer abc' } }), 'abc');
    assert.equal(bearerToken({ headers: { authorization: 'Basic YTpi' } }), undefined);
    assert.equal(bearerToken({ headers: {} }), undefined);
  });
});
