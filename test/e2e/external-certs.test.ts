/**
 * Serving certificates from a Secret someone else keeps (--cert-secret), on the
 * real cluster. cert-manager cannot be installed here (no internet), so the test
 * plays it: openssl issues a CA and a serving certificate into Secret
 * execsession-serving. The operator serves them on its webhook and aggregated API
 * and registers their CA; after a rotation written into the Secret, the caBundles
 * follow within --cert-refresh and sessions are still admitted. Without the
 * Secret, or with an incomplete one, the operator does not start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { HOST_IP, REPO_ROOT } from '../../tools/cluster/config.js';
import { issue, issueCa } from '../../tools/cluster/pki.js';
import { ADMIN_KUBECONFIG, eventually, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { API_GROUP_VERSION, OPERATOR_NAMESPACE, OperatorProcess, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, getSession, waitForPhase } from '../support/sessions.js';

const SECRET = 'execsession-serving';
const REFRESH = '2s';
/** What the operator registers with a caBundle, restored afterwards as the suite found them. */
const REGISTERED = [
  ['mutatingwebhookconfiguration', 'execsession.dev'],
  ['validatingwebhookconfiguration', 'execsession.dev'],
  ['apiservice', 'v1alpha1.subresources.execsession.dev'],
] as const;

/** PEM texts of one issuance. */
interface Issued {
  ca: string;
  cert: string;
  key: string;
}

/** Issues a CA and a serving certificate as cert-manager's CA Issuer would, for what kube-apiserver dials here. */
async function issueServing(dir: string, name: string): Promise<Issued> {
  const ca = await issueCa(dir, `${name}-ca`, `execsession-e2e-${name}-ca`);
  // In tests kube-apiserver reaches the webhook by URL (the host's address) and the API through its Service.
  const pair = await issue(ca, dir, name, {
    cn: `execsession-api.${OPERATOR_NAMESPACE}.svc`, client: false,
    server: { ips: [HOST_IP], dns: [`execsession-api.${OPERATOR_NAMESPACE}.svc`, `execsession-webhook.${OPERATOR_NAMESPACE}.svc`] },
  });
  return { ca: readFileSync(ca.cert, 'utf8'), cert: readFileSync(pair.cert, 'utf8'), key: readFileSync(pair.key, 'utf8') };
}

/** Writes Secret execsession-serving as cert-manager does (type kubernetes.io/tls); `omit` leaves keys out. */
async function writeSecret(c: Issued, omit: string[] = []): Promise<void> {
  const data = Object.fromEntries(Object.entries({ 'tls.crt': c.cert, 'tls.key': c.key, 'ca.crt': c.ca })
    .filter(([k]) => !omit.includes(k)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: SECRET, namespace: OPERATOR_NAMESPACE }, data }) });
}

/** The caBundle (decoded) of each registration the operator keeps. */
async function caBundles(): Promise<string[]> {
  return Promise.all(REGISTERED.map(async ([kind, name]) => {
    const path = kind === 'apiservice' ? '{.spec.caBundle}' : '{.webhooks[*].clientConfig.caBundle}';
    // Every webhook of a configuration trusts the same CA: one bundle, or all of them side by side (which fails the test).
    const distinct = [...new Set((await kubectlOk(['get', kind, name, '-o', `jsonpath=${path}`])).trim().split(/\s+/))];
    return distinct.map((b) => Buffer.from(b, 'base64').toString('utf8')).join('');
  }));
}

/** The Secret's resourceVersion: unchanged while only the operator runs, since it never writes the Secret. */
async function secretVersion(): Promise<string> {
  return kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'secret', SECRET, '-o', 'jsonpath={.metadata.resourceVersion}']);
}

/** Runs the operator until it exits (it should, at startup); its exit code and output. */
function operatorExit(args: string[]): Promise<{ code: number | null; output: string }> {
  const argv = ['--import', 'tsx', join(REPO_ROOT, 'src/main.ts'), '--webhook-listen', `${HOST_IP}:0`, '--api-listen', `${HOST_IP}:0`, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: ADMIN_KUBECONFIG }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Whether a TLS client trusting only `ca` accepts what the operator's webhook port presents. */
function handshake(port: number, ca: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST_IP, port, ca }, () => {
      socket.end();
      resolve(undefined);
    });
    socket.on('error', resolve);
  });
}

/** Snapshots the registrations; the returned function puts them back (or removes them if there were none). */
async function snapshotRegistrations(): Promise<() => Promise<void>> {
  const saved = await Promise.all(REGISTERED.map(async ([kind, name]) => {
    const r = await kubectl(['get', kind, name, '-o', 'json']);
    if (r.code !== 0) return { kind, name, body: undefined };
    const obj = JSON.parse(r.stdout) as { metadata: Record<string, unknown>; status?: unknown };
    for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields']) delete obj.metadata[k];
    delete obj.status;
    return { kind, name, body: JSON.stringify(obj) };
  }));
  return async () => {
    for (const { kind, name, body } of saved) {
      if (!body) await kubectl(['delete', kind, name, '--ignore-not-found']);
      else if ((await kubectl(['replace', '-f', '-'], { input: body })).code !== 0) await kubectlOk(['create', '-f', '-'], { input: body });
    }
  };
}

describe('certificates from --cert-secret', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess | undefined;
  let restore: (() => Promise<void>) | undefined;
  let first: Issued;
  const dir = mkdtempSync(join(tmpdir(), 'execsession-external-certs-'));

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('certs');
    await runTargetPod('target', ns.name);
    restore = await snapshotRegistrations();
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'delete', 'secret', SECRET, '--ignore-not-found']);
    first = await issueServing(dir, 'first');
  });

  after(async () => {
    await operator?.stop();
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'secret', SECRET, '--ignore-not-found']);
    await restore?.();
    await ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not start without the Secret, or with one that lacks keys, and says what to do', async () => {
    const missing = await operatorExit(['--cert-secret', SECRET]);
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /Secret execsession-system\/execsession-serving \(--cert-secret\) does not exist: install cert-manager and apply config\/cert-manager .*or drop --cert-secret/);
    assert.doesNotMatch(missing.output, /\n\s+at /, 'a message, not a stack trace');
    // As cert-manager writes it for an issuer without a CA (ACME): no ca.crt.
    await writeSecret(first, ['ca.crt']);
    const incomplete = await operatorExit(['--cert-secret', SECRET]);
    assert.equal(incomplete.code, 1, incomplete.output);
    assert.match(incomplete.output, /Secret execsession-system\/execsession-serving \(--cert-secret\) lacks ca\.crt .*install cert-manager/);
  });

  it('serves the Secret\'s certificate on the webhook and the aggregated API, and registers its CA', async () => {
    await writeSecret(first);
    const written = await secretVersion();
    operator = new OperatorProcess(['--cert-secret', SECRET, '--cert-refresh', REFRESH]);
    await operator.start();
    assert.deepEqual(await caBundles(), [first.ca, first.ca, first.ca], 'both webhook configurations and the APIService trust the Secret\'s ca.crt');

    await createSession(ns.name, 'before-rotation', { podName: 'target', user: 'alice', tty: false, command: ['id'] });
    assert.equal((await getSession(ns.name, 'before-rotation')).spec.requester?.username, 'admin', 'stamped by the webhook');
    const { session } = await waitForPhase(ns.name, 'before-rotation', ['Succeeded']);
    assert.match(session.status?.result?.stdout ?? '', /uid=1000\(alice\)/, 'the stamp verifies with the key in the operator\'s own Secret');

    await waitForApi();
    const discovery = JSON.parse(await kubectlOk(['get', '--raw', `/apis/${API_GROUP_VERSION}`])) as { groupVersion?: string };
    assert.equal(discovery.groupVersion, API_GROUP_VERSION);
    assert.equal(await secretVersion(), written, 'the operator never writes the Secret');
    assert.ok(!operator.log(1000).includes('kube-apiserver will refuse'), 'the certificate names what kube-apiserver dials');
  });

  it('follows a rotation written into the Secret within --cert-refresh, without a restart', async () => {
    assert.ok(operator, 'the operator runs');
    const pid = operator.pid;
    const second = await issueServing(dir, 'second');
    await writeSecret(second);
    const written = await secretVersion();
    const rotatedAt = Date.now();
    await eventually('every caBundle to be the new CA', async () => (await caBundles()).every((ca) => ca === second.ca), 15_000, 250);
    assert.ok(Date.now() - rotatedAt < 10_000, `the caBundles followed only after ${Date.now() - rotatedAt} ms`);
    assert.equal(operator.pid, pid);

    const port = Number(/"port":(\d+)[^\n]*"admission webhook registered"/.exec(operator.log(1000))?.[1]);
    assert.equal(await handshake(port, second.ca), undefined, 'the webhook presents the new certificate');
    assert.match(String(await handshake(port, first.ca)), /certificate/i, 'and no longer the old one');

    // kube-apiserver picks up changed configurations from its own watch, a moment later.
    await eventually('a session to be admitted with the new certificate', async () => {
      const r = await kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'after-rotation', namespace: ns.name }, spec: { podName: 'target', user: 'bob', tty: false, command: ['id'] } }) });
      if (r.code !== 0 && !/x509|certificate/i.test(r.stderr)) throw new Error(r.stderr);
      return r.code === 0;
    }, 15_000, 500);
    const { session } = await waitForPhase(ns.name, 'after-rotation', ['Succeeded']);
    assert.match(session.status?.result?.stdout ?? '', /uid=1001\(bob\)/);
    await eventually('the aggregated API with the new certificate', async () => (await kubectl(['get', '--raw', `/apis/${API_GROUP_VERSION}`])).code === 0, 30_000, 250);

    assert.ok(!operator.log(1000).includes('webhook refresh failed'), operator.log());
    assert.equal(await secretVersion(), written, 'the operator never writes the Secret');
  });
});
