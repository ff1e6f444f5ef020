import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApi, impersonationHeaders, loadKubeConfig, parseWarnings } from './client.js';
import { ApiError } from './errors.js';

/** A kubeconfig with two contexts, the second with a namespace. */
function kubeconfigFile(server: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-kc-')), 'config');
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'one',
    clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 'secret-token' } }],
    contexts: [{ name: 'one', context: { cluster: 'c', user: 'u' } }, { name: 'two', context: { cluster: 'c', user: 'u', namespace: 'team' } }],
  }));
  return file;
}

describe('parseWarnings', () => {
  it('reads RFC 7234 warnings as kube-apiserver sends them', () => {
    assert.deepEqual(parseWarnings('299 - "waits for 1 approval; approve with: kubectl execsession approve x -n y"'), ['waits for 1 approval; approve with: kubectl execsession approve x -n y']);
    assert.deepEqual(parseWarnings('299 - "a, b", 299 - "say \\"hi\\""'), ['a, b', 'say "hi"']);
    assert.deepEqual(parseWarnings(['299 - "one"', '299 - "two"']), ['one', 'two']);
    assert.deepEqual(parseWarnings(undefined), []);
  });
});

describe('KubeApi', () => {
  it('namespace: -n, else the context\'s, else default; --context must exist', async () => {
    const file = kubeconfigFile('http://127.0.0.1:1');
    assert.equal(new KubeApi(await loadKubeConfig({ kubeconfig: file }), {}).namespace, 'default');
    assert.equal(new KubeApi(await loadKubeConfig({ kubeconfig: file, context: 'two' }), { context: 'two' }).namespace, 'team');
    assert.equal(new KubeApi(await loadKubeConfig({ kubeconfig: file, context: 'two' }), { namespace: 'x' }).namespace, 'x');
    await assert.rejects(loadKubeConfig({ kubeconfig: file, context: 'three' }), /context "three" is not in the kubeconfig \(contexts: one, two\)/);
    await assert.rejects(loadKubeConfig({ kubeconfig: '/nonexistent/config' }), /cannot load the kubeconfig \/nonexistent\/config: .*--kubeconfig/);
  });

  it('sends the credentials and JSON, prints warnings, and turns a Status into an ApiError', async () => {
    const seen: { auth?: string; body: string; path?: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => void (body += c.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body, path: req.url });
        if (req.url?.endsWith('/ok')) {
          res.writeHead(201, { 'Content-Type': 'application/json', Warning: '299 - "needs 1 approval"' }).end('{"kind":"ExecSession"}');
        } else {
          res.writeHead(409, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 409, reason: 'NotWaitingForApproval', message: 'not waiting' }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const lines: string[] = [];
      const api = new KubeApi(await loadKubeConfig({ kubeconfig: kubeconfigFile(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }), {}, (l) => lines.push(l));
      assert.deepEqual(await api.request('POST', '/ok', { a: 1 }), { kind: 'ExecSession' });
      assert.deepEqual(seen[0], { auth: 'Bearer secret-token', body: '{"a":1}', path: '/ok' });
      assert.deepEqual(lines, ['Warning: needs 1 approval']);
      await assert.rejects(api.request('POST', '/no', {}), (e: Error) => e instanceof ApiError && e.reason === 'NotWaitingForApproval' && e.message === 'not waiting');
    } finally {
      server.close();
    }
  });

  it('says when there is no kubeconfig, and when its credentials cannot be used', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    process.env.HOME = mkdtempSync(join(tmpdir(), 'cli-home-'));
    delete process.env.KUBECONFIG;
    try {
      await assert.rejects(loadKubeConfig({}), /no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ~\/\.kube\/config/);
    } finally {
      Object.assign(process.env, saved);
      if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'cli-kc-')), 'config');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:1' } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    }));
    const api = new KubeApi(await loadKubeConfig({ kubeconfig: file }), {});
    await assert.rejects(api.request('GET', '/x'), /cannot use the credentials of context "x": HTTP protocol is not allowed/);
  });

  it('names the server it cannot reach', async () => {
    const api = new KubeApi(await loadKubeConfig({ kubeconfig: kubeconfigFile('http://127.0.0.1:1') }), {});
    await assert.rejects(api.request('GET', '/x'), /cannot reach the API server at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});

describe("kubectl's global flags", () => {
  it('--server, --token and impersonation (--as, each --as-group, --as-uid) reach the API server as kubectl sends them', async () => {
    const seen: Array<{ auth?: string; user?: string; groups?: string[]; uid?: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, user: req.headersDistinct['impersonate-user']?.[0], groups: req.headersDistinct['impersonate-group'], uid: req.headersDistinct['impersonate-uid']?.[0] });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      // The kubeconfig names a server nobody listens on: --server wins, as in kubectl.
      const opts = { kubeconfig: kubeconfigFile('http://127.0.0.1:1'), server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'flag-token', as: 'alice', asGroup: ['developers', 'ops'], asUid: '42' };
      const api = new KubeApi(await loadKubeConfig(opts), opts);
      await api.request('GET', '/api');
      assert.deepEqual(seen, [{ auth: 'Bearer flag-token', user: 'alice', groups: ['developers', 'ops'], uid: '42' }]);
    } finally {
      server.close();
    }
  });

  it('refuses --as-group without --as, and a --cluster the kubeconfig lacks', async () => {
    const file = kubeconfigFile('http://127.0.0.1:1');
    assert.throws(() => impersonationHeaders({ asGroup: ['ops'] }), /--as-group and --as-uid need --as USER/);
    await assert.rejects(loadKubeConfig({ kubeconfig: file, cluster: 'other' }), /cluster "other" is not in the kubeconfig \(clusters: c\)/);
  });
});
