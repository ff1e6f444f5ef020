// The operator's metrics and alert rules, checked with Prometheus's own tool
// (promtool, from Debian's prometheus package, installed by npm run setup):
// the exposition of a registry in which every metric has observations passes
// `promtool check metrics` without a complaint; the PrometheusRule's groups in
// config/prometheus pass `promtool check rules` and its alert tests
// (rules.test.yaml); the ServiceMonitor scrapes the Service config/default
// installs; and docs/audit.md names every metric. No cluster.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { OperatorMetrics } from '../../src/metrics/metrics.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROMETHEUS = join(REPO_ROOT, 'config/prometheus');

/** Runs promtool; a missing promtool fails the test saying how to get it. */
function promtool(args: string[], opts: { input?: string; cwd?: string } = {}): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { input: opts.input, cwd: opts.cwd, encoding: 'utf8' });
  if (r.error) assert.fail(`promtool could not run (${r.error.message}): install Debian's prometheus package (npm run setup does)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** A registry in which every metric has seen something. */
function populated(): OperatorMetrics {
  const m = new OperatorMetrics({ process: true });
  m.reconciled('execsession', 'success', 0.012);
  m.reconciled('execsession', 'error', 0.3);
  m.reconciled('execsession', 'requeue_after', 0.002);
  const q = m.queue('execsession');
  q.added();
  q.depth(3);
  q.waited(0.05);
  q.worked(0.2);
  q.retried();
  m.queue('execpolicy-status').added();
  m.countPhasesWith(() => new Map([['Ready', 2], ['WaitingForApproval', 1]]));
  m.sessionReady(2.4);
  m.sessionExpired(0.7);
  m.denied('admission', 'NoPolicy');
  m.denied('controller', 'RbacDenied');
  m.approval('approved');
  m.attach('started');
  m.attach('refused');
  m.attachRelayed('in', 12);
  m.attachRelayed('out', 4096);
  m.recordingFailed('file');
  m.auditFailed('file');
  return m;
}

/** Every metric the operator defines (not the process ones prom-client adds). */
const OURS = /^(controller_runtime_|workqueue_|execsession_)/;

describe('the /metrics exposition', () => {
  let text = '';
  before(async () => {
    text = (await populated().exposition()).body;
  });

  it('passes promtool check metrics without a complaint', () => {
    const r = promtool(['check', 'metrics'], { input: text });
    assert.equal(r.out, '', `promtool check metrics complained:\n${r.out}`);
    assert.equal(r.code, 0);
  });

  it('holds each metric with its type, and the observations made', () => {
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    const expected: Record<string, string> = {
      controller_runtime_reconcile_total: 'counter', controller_runtime_reconcile_errors_total: 'counter', controller_runtime_reconcile_time_seconds: 'histogram',
      workqueue_depth: 'gauge', workqueue_adds_total: 'counter', workqueue_queue_duration_seconds: 'histogram', workqueue_work_duration_seconds: 'histogram', workqueue_retries_total: 'counter',
      execsession_sessions: 'gauge', execsession_create_to_ready_seconds: 'histogram', execsession_expiry_lateness_seconds: 'histogram',
      execsession_denials_total: 'counter', execsession_approvals_total: 'counter', execsession_attaches_total: 'counter', execsession_attach_bytes_total: 'counter',
      execsession_recording_failures_total: 'counter', execsession_audit_failures_total: 'counter',
    };
    assert.deepEqual(Object.fromEntries([...types].filter(([n]) => OURS.test(n ?? ''))), expected);
    assert.match(text, /^controller_runtime_reconcile_total\{controller="execsession",result="error"\} 1$/m);
    assert.match(text, /^workqueue_depth\{name="execsession",controller="execsession"\} 3$/m);
    assert.match(text, /^execsession_sessions\{phase="Ready"\} 2$/m);
    assert.match(text, /^execsession_sessions\{phase="Expired"\} 0$/m);
    assert.match(text, /^execsession_attach_bytes_total\{direction="out"\} 4096$/m);
    assert.match(text, /^execsession_audit_failures_total\{sink="file"\} 1$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m, 'the process metrics too');
  });

  it('docs/audit.md describes every metric the operator defines', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/audit.md'), 'utf8');
    const names = [...new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? '').filter((n) => OURS.test(n)))];
    const missing = names.filter((n) => !doc.includes(`\`${n}\``));
    assert.deepEqual(missing, [], 'metrics docs/audit.md does not name');
  });
});

describe('config/prometheus', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'execsession-rules-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The groups of the PrometheusRule, as a plain rules file promtool reads. */
  function rulesFile(): string {
    const rule = parse(readFileSync(join(PROMETHEUS, 'rules.yaml'), 'utf8')) as { kind: string; spec: { groups: unknown[] } };
    assert.equal(rule.kind, 'PrometheusRule');
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, stringify(rule.spec));
    return file;
  }

  it('its alert rules pass promtool check rules', () => {
    const r = promtool(['check', 'rules', rulesFile()]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 5 rules found/);
  });

  it('its alerts fire as rules.test.yaml expects (promtool test rules)', () => {
    rulesFile();
    copyFileSync(join(PROMETHEUS, 'rules.test.yaml'), join(dir, 'rules.test.yaml'));
    const r = promtool(['test', 'rules', 'rules.test.yaml'], { cwd: dir });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  it('the ServiceMonitor scrapes /metrics over HTTPS on the port config/default names on the execsession-api Service', () => {
    const render = (dirName: string): Array<{ kind?: string; metadata?: { name?: string }; spec?: never; rules?: unknown }> => {
      const r = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, dirName)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return parseAllDocuments(r.stdout).map((d) => d.toJSON() as never);
    };
    const monitoring = render('config/prometheus');
    const monitor = monitoring.find((d) => d.kind === 'ServiceMonitor') as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; scheme: string; path: string }> } };
    const service = render('config/default').find((d) => d.kind === 'Service' && d.metadata?.name === 'execsession-api') as unknown as { metadata: { labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } };
    const ep = monitor.spec.endpoints[0];
    assert.deepEqual([ep?.scheme, ep?.path], ['https', '/metrics']);
    assert.ok(service.spec.ports.some((p) => p.name === ep?.port), `the execsession-api Service has a port named ${ep?.port}`);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v, `the Service carries ${k}=${v}`);
    const reader = monitoring.find((d) => d.kind === 'ClusterRole');
    assert.deepEqual(reader?.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });
});
