/**
 * /metrics through the real path (ADR 22): the operator's aggregated API port,
 * reached as a scraper reaches it (the pod or host address, not through
 * kube-apiserver), with real ServiceAccount tokens that the operator checks with
 * kube-apiserver (TokenReview, then a SubjectAccessReview for get /metrics). An
 * authorized scraper reads an exposition that passes `promtool check metrics`;
 * no token and a token without the ClusterRole are refused. A session created,
 * attached and expired, and one refused at admission, show in the counters and
 * histograms. In cluster mode every replica is scraped and the samples summed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { attach } from '../support/attach.js';
import { grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OPERATOR_MODE, OPERATOR_SELECTOR, suiteOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, grantSubresources, installCrds, waitForApi, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

/** One scrape's answer. */
interface Scrape {
  status: number;
  body: string;
}

function get(host: string, port: number, token?: string): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    // The serving certificate names the Service, not this address; the bearer token is what is checked.
    const req = request({ host, port, path: '/metrics', method: 'GET', rejectUnauthorized: false, headers: token ? { Authorization: `Bearer ${token}` } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every sample of an exposition: `name{labels}` as written, and its value. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum over the samples named `name` that carry `labels`. */
function total(texts: string[], name: string, labels: Record<string, string> = {}): number {
  return texts.flatMap(samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('/metrics', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let alice: string;
  let scraperToken = '';
  let strangerToken = '';
  const binding = (): string => `execsession-metrics-e2e-${ns.name}`;

  /** Where each replica serves /metrics. */
  async function targets(): Promise<Array<{ host: string; port: number }>> {
    if (OPERATOR_MODE === 'process') return [await operator.apiAddress()];
    const ips = (await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', OPERATOR_SELECTOR, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).filter(Boolean);
    return ips.map((host) => ({ host, port: 8443 }));
  }

  /** The expositions of every replica, as the authorized scraper. */
  async function scrapeAll(): Promise<string[]> {
    const out: string[] = [];
    for (const t of await targets()) {
      const r = await get(t.host, t.port, scraperToken);
      assert.equal(r.status, 200, r.body);
      out.push(r.body);
    }
    return out;
  }

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('metrics');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `metrics-${ns.name}` },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['alice'] }, ttl: { default: '15m', max: '1h' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    // The scraper's ClusterRole as shipped, bound to a ServiceAccount of this namespace; another one has no binding.
    const role = parseAllDocuments(readFileSync(join(REPO_ROOT, 'config/prometheus/scraper-rbac.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string }).find((o) => o.kind === 'ClusterRole');
    assert.ok(role, 'scraper-rbac.yaml holds the ClusterRole');
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(role) });
    for (const sa of ['scraper', 'stranger']) await kubectlOk(['-n', ns.name, 'create', 'serviceaccount', sa]);
    await kubectlOk(['create', 'clusterrolebinding', binding(), '--clusterrole=execsession-metrics-reader', `--serviceaccount=${ns.name}:scraper`]);
    scraperToken = (await kubectlOk(['-n', ns.name, 'create', 'token', 'scraper'])).trim();
    strangerToken = (await kubectlOk(['-n', ns.name, 'create', 'token', 'stranger'])).trim();
    operator = suiteOperator();
    await operator.start();
    await waitForApi();
    await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `metrics-${ns.name}`]);
    await kubectl(['delete', 'clusterrolebinding', binding()]);
  });

  it('refuses a request without a token (401) and a ServiceAccount without the ClusterRole (403), naming what to grant', async () => {
    const [t] = await targets();
    assert.ok(t, 'a replica serves');
    const none = await get(t.host, t.port);
    assert.equal(none.status, 401, none.body);
    assert.match(none.body, /needs a bearer token/);
    const stranger = await get(t.host, t.port, strangerToken);
    assert.equal(stranger.status, 403, stranger.body);
    assert.match(stranger.body, new RegExp(`system:serviceaccount:${ns.name}:stranger.* may not get /metrics`));
    const forged = await get(t.host, t.port, `${scraperToken.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 401, forged.body);
    for (const r of [none, stranger, forged]) assert.doesNotMatch(r.body, /execsession_/);
  });

  it('serves the authorized scraper an exposition that promtool check metrics accepts', async () => {
    for (const text of await scrapeAll()) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(r.error, undefined, 'promtool runs (npm run setup installs Debian\'s prometheus package)');
      assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool has no complaint');
      assert.equal(r.status, 0);
      assert.match(text, /^# TYPE controller_runtime_reconcile_total counter$/m);
    }
  });

  it('counts a session created, attached and expired, and one refused at admission', async () => {
    const before = await scrapeAll();
    const n = (texts: string[], name: string, labels?: Record<string, string>): number => total(texts, name, labels);
    await createSession(ns.name, 'counted', { podName: 'target', user: 'alice', ttl: '20s' }, alice);
    await waitForPhase(ns.name, 'counted', ['Ready']);
    const a = await attach(alice, ns.name, 'counted', { command: ['echo', 'hello metrics'], tty: false, stdin: false });
    await a.done;
    assert.equal(a.stdout(), 'hello metrics\n');
    await waitForPhase(ns.name, 'counted', ['Expired'], 60_000);
    // Not a user the policy allows: refused by the webhook.
    const refused = await kubectl(['-n', ns.name, 'create', '-f', '-'], { kubeconfig: alice, input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'refused' }, spec: { podName: 'target', user: 'mallory' },
    }) });
    assert.notEqual(refused.code, 0, 'the webhook refuses mallory');
    const after = await scrapeAll();
    const grew = (name: string, labels?: Record<string, string>): number => n(after, name, labels) - n(before, name, labels);
    assert.ok(grew('execsession_create_to_ready_seconds_count') >= 1, 'create-to-Ready observed');
    assert.ok(grew('execsession_expiry_lateness_seconds_count') >= 1, 'expiry lateness observed');
    assert.ok(grew('execsession_attaches_total', { result: 'started' }) >= 1, 'the attach counted');
    assert.ok(grew('execsession_attach_bytes_total', { direction: 'out' }) >= 'hello metrics\n'.length, 'its output counted');
    assert.ok(grew('execsession_denials_total', { stage: 'admission' }) >= 1, 'the refusal counted');
    assert.ok(grew('controller_runtime_reconcile_total', { controller: 'execsession' }) >= 3, 'reconciles counted');
    assert.ok(grew('controller_runtime_reconcile_time_seconds_count', { controller: 'execsession' }) >= 3, 'reconciles timed');
    assert.ok(grew('workqueue_adds_total', { name: 'execsession' }) >= 1, 'keys queued');
    assert.ok(grew('workqueue_work_duration_seconds_count', { name: 'execsession' }) >= 3, 'work timed');
    assert.ok(n(after, 'execsession_sessions', { phase: 'Expired' }) >= 1, 'the expired session is in the phase gauge');
  });
});
