import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testCa, testLeaf, type TestPair } from '../../test/support/test-pki.js';
import { httpText, rawExchange, upgradeText, type RawTarget } from '../../test/support/raw-tls.js';
import { SUBRESOURCE_BASE } from '../api/subresources.js';
import type { Attacher } from './attach.js';
import { ApiServer } from './server.js';
import { ApiError } from './types.js';

const BASE = SUBRESOURCE_BASE;
const ATTACH = `${BASE}/namespaces/shop/execsessions/dbg/attach`;
const REVOKE = `${BASE}/namespaces/shop/execsessions/dbg/revoke`;
/** Errors the server logged: a malformed request is the client's problem, never one of these. */
const errors: object[] = [];
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object) => void errors.push(o) };

/** A server whose attacher and actions answer without a cluster. */
async function startServer(clientCA: string, serving: TestPair & { ca: string }): Promise<{ server: ApiServer; port: number }> {
  const attacher = {
    kube: {},
    prepare: async () => {
      throw new ApiError(404, 'NotFound', 'execsession shop/dbg not found');
    },
    start: () => undefined,
    close: () => undefined,
  } as unknown as Attacher;
  const server = new ApiServer({
    attacher, log: quiet, stampKey: () => Buffer.from('k'),
    actions: { revoke: async (ctx) => ({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: ctx.name }, spec: { podName: 'p', user: 'u' } }) },
  }, { clientCA, allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'], groupHeaders: ['X-Remote-Group'], extraHeaderPrefixes: ['X-Remote-Extra-'] });
  const port = await server.listen('127.0.0.1', 0, serving);
  return { server, port };
}

describe('the aggregated API server, given what no HTTP client sends', () => {
  let server: ApiServer;
  let anonymous: RawTarget;
  let proxy: RawTarget;
  let stranger: RawTarget;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown): void => void rejections.push(e);

  before(async () => {
    process.on('unhandledRejection', onRejection);
    const [servingCa, frontProxyCa, otherCa] = await Promise.all([testCa('serving-ca'), testCa('front-proxy-ca'), testCa('other-ca')]);
    const serving = { ...(await testLeaf(servingCa, 'execsession-api', true)), ca: servingCa.cert };
    const started = await startServer(frontProxyCa.cert, serving);
    server = started.server;
    anonymous = { host: '127.0.0.1', port: started.port };
    proxy = { ...anonymous, client: await testLeaf(frontProxyCa, 'front-proxy-client') };
    stranger = { ...anonymous, client: await testLeaf(otherCa, 'front-proxy-client') };
  });

  after(async () => {
    process.off('unhandledRejection', onRejection);
    await server?.close();
  });

  const who = (): [string, RawTarget][] => [['without a certificate', anonymous], ['with a certificate of another CA', stranger], ['as the front proxy', proxy]];

  it('refuses an upgrade to //[ before reading its target (the crash of finding 1)', async () => {
    for (const [name, target] of who()) {
      const a = await rawExchange(target, upgradeText('//[', { 'X-Remote-User': 'alice' }));
      assert.equal(a.status, target === proxy ? 404 : 401, `${name}: ${a.text}`);
    }
  });

  it('answers malformed targets, heads and bodies with a 4xx, with and without credentials', async () => {
    const user = { 'X-Remote-User': 'alice', 'X-Remote-Group': 'developers' };
    // What comes back without a trusted certificate (Node's parser answers some before any handler), and as the front proxy.
    const cases: [string, string, number, number][] = [
      ['a request line that is not one', 'GARBAGE\r\n\r\n', 400, 400],
      ['bad percent-encoding in the path', httpText('GET', '/%ZZ', user), 401, 404],
      ['a target new URL() refuses', httpText('GET', '//[', user), 401, 404],
      ['a path longer than the server takes (256 KiB)', httpText('GET', `/${'a'.repeat(270_000)}`, user), 431, 431],
      // Past Node's default 16 KiB: an attach's command may be 64 KiB, so its query reaches the handler.
      ['an attach with a 70 KB command', upgradeText(`${ATTACH}?command=echo&command=${'x'.repeat(70_000)}`, user), 401, 404],
      ['an upgrade with bad percent-encoding', upgradeText(`${ATTACH}?command=%ZZ&tty=%FF`, user), 401, 404],
      ['an upgrade without subprotocols', upgradeText(ATTACH, { ...user, 'Sec-WebSocket-Protocol': '' }), 401, 400],
      ['an upgrade to a path that is not attach', upgradeText(REVOKE, user), 401, 404],
      ['a body that is not JSON', httpText('POST', REVOKE, user, '{"reason":'), 401, 400],
      ['a body that is JSON but no object', httpText('POST', REVOKE, user, '[1,2]'), 401, 400],
      ['a body past the limit', httpText('POST', REVOKE, user, `{"reason":"${'x'.repeat(70_000)}"}`), 401, 413],
      ['an extra header with malformed percent-encoding (finding 2)', httpText('POST', REVOKE, { ...user, 'X-Remote-Extra-%FF': 'x' }, '{}'), 401, 400],
      ['an upgrade with such an extra header', upgradeText(ATTACH, { ...user, 'X-Remote-Extra-%ZZ': 'x' }), 401, 400],
      ['a body whose chunked framing breaks', `POST ${REVOKE} HTTP/1.1\r\nHost: a\r\nX-Remote-User: alice\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`, 401, 400],
      ['a subresource named after an Object property', httpText('POST', `${BASE}/namespaces/shop/execsessions/dbg/constructor`, user, '{}'), 401, 404],
    ];
    for (const [name, payload, refused, proxied] of cases) {
      for (const [as, target] of who()) {
        const a = await rawExchange(target, payload);
        assert.equal(a.status, target === proxy ? proxied : refused, `${name}, ${as}: ${a.text.slice(0, 300)}`);
      }
    }
  });

  it('still answers its health check, and nothing escaped a handler', async () => {
    const a = await rawExchange(anonymous, httpText('GET', '/healthz'));
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(rejections, []);
    assert.deepEqual(errors, []);
  });
});
