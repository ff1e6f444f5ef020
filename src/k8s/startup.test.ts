// Start-up errors with the shapes @kubernetes/client-node really produces: the real
// KubeClient against an HTTP server answering as kube-apiserver does (a metav1.Status
// for 403 and for a missing namespace, "404 page not found" for a resource no CRD
// serves), and the operator's entry point run against it as a process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiException, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { KubeClient } from './kube.js';
import { StartupError, preflight, startupProblem } from './startup.js';

const NS = 'execsession-system';
type Answer = { code: number; body: string; type?: string };

/** kube-apiserver's metav1.Status for a failed request. */
function status(code: number, reason: string, message: string, details: object = {}): Answer {
  return { code, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code }) };
}

const NAMESPACE_OK: Answer = { code: 200, body: JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: NS, labels: {} } }) };
const EMPTY_LIST: Answer = { code: 200, body: JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: [] }) };
// What kube-apiserver answers for a path no API serves, e.g. a CRD's before it is installed.
const NO_RESOURCE: Answer = { code: 404, body: '404 page not found\n', type: 'text/plain; charset=utf-8' };
const NO_NAMESPACE = status(404, 'NotFound', `namespaces "${NS}" not found`, { name: NS, kind: 'namespaces' });
const USER = 'system:serviceaccount:default:nobody';
const forbidden = (verb: string, resource: string, group: string, ns?: string): Answer =>
  status(403, 'Forbidden', `${resource}${group ? `.${group}` : ''} is forbidden: User "${USER}" cannot ${verb} resource "${resource}" in API group "${group}" ${ns ? `in the namespace "${ns}"` : 'at the cluster scope'}`, { kind: resource });

/** The API as one scenario has it: path (without query) to answer; anything else is 404 page not found. */
let routes: Record<string, Answer> = {};
let server: Server;
let url = '';

function client(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return new KubeClient(kc);
}

const SESSIONS = '/apis/execsession.dev/v1alpha1/execsessions';
const POLICIES = `/apis/execsession.dev/v1alpha1/namespaces/${NS}/execpolicies`;
const CLUSTER_POLICIES = '/apis/execsession.dev/v1alpha1/clusterexecpolicies';
const HEALTHY = { [`/api/v1/namespaces/${NS}`]: NAMESPACE_OK, [SESSIONS]: EMPTY_LIST, [POLICIES]: EMPTY_LIST, [CLUSTER_POLICIES]: EMPTY_LIST };

async function preflightError(r: Record<string, Answer>): Promise<Error> {
  routes = r;
  try {
    await preflight(client(), NS, { retryMs: 600 });
  } catch (e) {
    return e as Error;
  }
  return assert.fail('preflight passed');
}

before(async () => {
  server = createServer((req, res) => {
    const a = routes[(req.url ?? '').split('?')[0] ?? ''] ?? NO_RESOURCE;
    res.writeHead(a.code, { 'content-type': a.type ?? 'application/json' }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('preflight: what the operator cannot start without, with the fix', () => {
  it('passes on a healthy installation', async () => {
    routes = HEALTHY;
    await preflight(client(), NS);
  });

  it('a missing namespace: names it and the commands that make it', async () => {
    const e = await preflightError({ ...HEALTHY, [`/api/v1/namespaces/${NS}`]: NO_NAMESPACE });
    assert.ok(e instanceof StartupError);
    assert.match(e.message, /^namespace "execsession-system" does not exist; .*Create it: kubectl create namespace execsession-system && kubectl label namespace execsession-system pod-security\.kubernetes\.io\/enforce=privileged .*or start the operator with --namespace/);
  });

  it('the ExecSession CRD missing: names it and kubectl apply -k crds', async () => {
    const e = await preflightError({ ...HEALTHY, [SESSIONS]: NO_RESOURCE });
    assert.ok(e instanceof StartupError);
    assert.match(e.message, /^the CustomResourceDefinition execsessions\.execsession\.dev is not installed .*Install the CRDs: kubectl apply -k crds/);
  });

  it('the policy CRDs missing: names them', async () => {
    const e = await preflightError({ ...HEALTHY, [CLUSTER_POLICIES]: NO_RESOURCE });
    assert.match(e.message, /^the CustomResourceDefinition execpolicies\.execsession\.dev or clusterexecpolicies\.execsession\.dev is not installed/);
  });

  it('no RBAC: names the identity, the verb, the resource and the rule, and how to apply it', async () => {
    const e = await preflightError({ ...HEALTHY, [`/api/v1/namespaces/${NS}`]: forbidden('get', 'namespaces', '', NS) });
    assert.ok(e instanceof StartupError);
    assert.match(e.message, /^the operator's identity "system:serviceaccount:default:nobody" may not get namespaces \(API group ""\) in namespace execsession-system: it is missing RBAC\. Apply the operator's RBAC: kubectl apply -k config\/rbac .*The rule it needs: \{apiGroups: \[""\], resources: \["namespaces"\], verbs: \["get"\]\}/);
    const list = await preflightError({ ...HEALTHY, [SESSIONS]: forbidden('list', 'execsessions', 'execsession.dev') });
    assert.match(list.message, /may not list execsessions \(API group "execsession\.dev"\) at the cluster scope: it is missing RBAC.*\{apiGroups: \["execsession\.dev"\], resources: \["execsessions"\], verbs: \["list"\]\}$/);
  });

  it('retries what a kube-apiserver that has just started answers (503 storage initializing), then goes on', async () => {
    let refusals = 2;
    const served: Record<string, Answer> = { ...HEALTHY };
    routes = new Proxy(served, {
      get: (t, path: string) => (path === SESSIONS && refusals-- > 0 ? status(503, 'ServiceUnavailable', 'storage is (re)initializing') : t[path]),
    });
    await preflight(client(), NS, { retryMs: 5_000 });
    assert.equal(refusals, -1, 'two refusals, then the third call passed');
  });

  it('leaves other failures as they are (a 500 is not a missing installation)', async () => {
    const e = await preflightError({ ...HEALTHY, [SESSIONS]: status(500, 'InternalError', 'etcdserver: request timed out') });
    assert.ok(e instanceof ApiException && !(e instanceof StartupError));
    assert.equal(e.code, 500);
  });
});

describe('startupProblem, on calls later in start-up', () => {
  it('a Secret created in a namespace that does not exist', async () => {
    routes = { [`/api/v1/namespaces/${NS}/secrets`]: NO_NAMESPACE };
    const e = await client().createSecret({ metadata: { name: 'execsession-operator', namespace: NS } } as V1Secret).then(() => assert.fail('created'), (x: unknown) => x);
    assert.ok(e instanceof ApiException);
    assert.match(startupProblem(e, { namespace: NS }) ?? '', /^namespace "execsession-system" does not exist/);
  });

  it('a Secret the identity may not read, and credentials the API server refuses', async () => {
    routes = { [`/api/v1/namespaces/${NS}/secrets/execsession-operator`]: forbidden('get', 'secrets', '', NS) };
    const e = await client().getSecret(NS, 'execsession-operator').then(() => assert.fail('read'), (x: unknown) => x);
    assert.match(startupProblem(e, { namespace: NS }) ?? '', /may not get secrets \(API group ""\) in namespace execsession-system: it is missing RBAC/);
    routes = { [`/api/v1/namespaces/${NS}/secrets/execsession-operator`]: status(401, 'Unauthorized', 'Unauthorized') };
    const u = await client().getSecret(NS, 'execsession-operator').then(() => assert.fail('read'), (x: unknown) => x);
    assert.match(startupProblem(u, { namespace: NS }) ?? '', /^the API server did not accept the operator's credentials \(401 Unauthorized\)/);
  });

  it('is undefined for a failure without an HTTP answer, and a 404 it cannot place', () => {
    assert.equal(startupProblem(new Error('connect ECONNREFUSED'), { namespace: NS }), undefined);
    assert.equal(startupProblem(new ApiException(404, 'x', '404 page not found', {}), { namespace: NS }), undefined);
  });
});

describe('the operator process, started against such an API server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'execsession-start-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs src/main.ts with a kubeconfig for the fake API server; its exit code and output. */
  function operator(): Promise<{ code: number; out: string }> {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    }));
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'main.ts'), '--kubeconfig', kubeconfig, '--leader-elect=false'],
        { timeout: 30_000, env: { ...process.env, KUBECONFIG: kubeconfig } }, (err, stdout, stderr) => {
          resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, out: `${stdout}${stderr}` });
        });
    });
  }

  it('says the namespace is missing and how to make it, exits 1, no stack trace', async () => {
    routes = { ...HEALTHY, [`/api/v1/namespaces/${NS}`]: NO_NAMESPACE };
    const r = await operator();
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^execsession operator: namespace "execsession-system" does not exist; .*kubectl create namespace execsession-system/m);
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  });

  it('says which CRD is missing, exits 1, no stack trace', async () => {
    routes = { ...HEALTHY, [SESSIONS]: NO_RESOURCE };
    const r = await operator();
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /execsession operator: the CustomResourceDefinition execsessions\.execsession\.dev is not installed/);
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  });
});
