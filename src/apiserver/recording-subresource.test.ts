import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testCa, testLeaf } from '../../test/support/test-pki.js';
import { httpText, rawExchange, type RawTarget } from '../../test/support/raw-tls.js';
import { SUBRESOURCE_BASE } from '../api/subresources.js';
import { FileRecordingStore } from '../recording/file-store.js';
import type { Attacher } from './attach.js';
import { resourceList, ApiServer } from './server.js';

const RECORDING = `${SUBRESOURCE_BASE}/namespaces/shop/execsessions/dbg/recording`;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const user = { 'X-Remote-User': 'auditor' };

describe('the recording subresource', () => {
  let server: ApiServer;
  let dir: string;
  let proxy: RawTarget;
  let anonymous: RawTarget;
  let sessionUid: string | undefined = 'uid-2';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rec-api-'));
    const store = new FileRecordingStore(dir);
    for (const uid of ['uid-1', 'uid-2']) {
      const w = await store.create({ namespace: 'shop', name: 'dbg', uid });
      await w.write(`{"version":2,"width":80,"height":24}\n[0.5,"o","${uid}"]\n`);
      await w.close();
      await new Promise((r) => setTimeout(r, 20));
    }
    const attacher = { kube: { getSession: async () => (sessionUid ? { metadata: { uid: sessionUid } } : undefined) }, close: () => undefined } as unknown as Attacher;
    const [servingCa, frontProxyCa] = await Promise.all([testCa('serving-ca'), testCa('front-proxy-ca')]);
    const serving = { ...(await testLeaf(servingCa, 'execsession-api', true)), ca: servingCa.cert };
    server = new ApiServer({ attacher, log: quiet, stampKey: () => Buffer.from('k'), actions: {}, recordings: store }, { clientCA: frontProxyCa.cert, allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'], groupHeaders: ['X-Remote-Group'], extraHeaderPrefixes: ['X-Remote-Extra-'] });
    const port = await server.listen('127.0.0.1', 0, serving);
    anonymous = { host: '127.0.0.1', port };
    proxy = { ...anonymous, client: await testLeaf(frontProxyCa, 'front-proxy-client') };
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is in discovery with its own verb, get', () => {
    const list = resourceList() as { resources: { name: string; verbs: string[] }[] };
    assert.deepEqual(list.resources.find((r) => r.name === 'execsessions/recording')?.verbs, ['get']);
  });

  it('lists the live session\'s recordings, and serves one as application/x-asciicast', async () => {
    const listed = await rawExchange(proxy, httpText('GET', RECORDING, user));
    assert.equal(listed.status, 200, listed.text);
    assert.match(listed.text, /"kind":"RecordingList".*"uid":"uid-2","attach":1/s);
    const cast = await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=1`, user));
    assert.equal(cast.status, 200, cast.text);
    assert.match(cast.text, /content-type: application\/x-asciicast/i);
    assert.match(cast.text, /\[0\.5,"o","uid-2"\]/);
  });

  it('finds a deleted session\'s recordings by name, or an older one by ?uid=', async () => {
    sessionUid = undefined;
    assert.match((await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=1`, user))).text, /"uid-2"/);
    assert.match((await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=1&uid=uid-1`, user))).text, /"uid-1"/);
    sessionUid = 'uid-2';
  });

  it('answers 404 for a missing recording, 400 for a bad number, 405 for POST, 401 without the front proxy', async () => {
    assert.equal((await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=7`, user))).status, 404);
    assert.equal((await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=../../x`, user))).status, 400);
    assert.equal((await rawExchange(proxy, httpText('GET', `${RECORDING}?attach=1&uid=../../etc`, user))).status, 404);
    assert.equal((await rawExchange(proxy, httpText('POST', RECORDING, user, '{}'))).status, 405);
    assert.equal((await rawExchange(anonymous, httpText('GET', `${RECORDING}?attach=1`, user))).status, 401);
  });
});
