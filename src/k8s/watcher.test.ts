import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Watcher, isTransientListError } from './watcher.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;

/** A KubeConfig whose server refuses connections: the watch loop after the list fails fast. */
function nowhere(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return kc;
}

describe('isTransientListError', () => {
  it('retries throttling, server errors and network errors', () => {
    assert.equal(isTransientListError({ code: 429 }), true);
    assert.equal(isTransientListError({ code: 503 }), true);
    assert.equal(isTransientListError(new Error('ECONNREFUSED')), true);
  });
  it('does not retry what a retry cannot fix', () => {
    assert.equal(isTransientListError({ code: 403 }), false);
    assert.equal(isTransientListError({ code: 404 }), false);
  });
});

describe('Watcher', () => {
  it('retries a first list that kube-apiserver throttles while a new CRD initializes', async () => {
    let calls = 0;
    const seen: string[] = [];
    const w = new Watcher(nowhere(), {
      path: '/apis/x/v1/things',
      list: async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('storage is (re)initializing'), { code: 429 });
        return { items: [{ metadata: { name: 'a', namespace: 'n' } }], metadata: { resourceVersion: '7' } };
      },
      onObject: (_t, o) => seen.push(o.metadata?.name ?? ''),
    }, quiet);
    await w.start();
    w.stop();
    assert.equal(calls, 3);
    assert.deepEqual(seen, ['a']);
  });

  it('fails at once on a refusal', async () => {
    const w = new Watcher(nowhere(), {
      path: '/apis/x/v1/things',
      list: async () => { throw Object.assign(new Error('forbidden'), { code: 403 }); },
      onObject: () => undefined,
    }, quiet);
    await assert.rejects(w.start(), /forbidden/);
    w.stop();
  });
});
