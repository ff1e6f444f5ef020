/**
 * Approvals and delegation, end to end. Approvals: with an ExecPolicy needing one
 * approval from group approvers, alice's session waits in WaitingForApproval;
 * she cannot approve it herself, nor can someone outside the approvers, nor does
 * an approval written straight into status count; carol (approvers) approves
 * through kube-apiserver and the aggregated API and the session becomes Ready;
 * carol's denial ends another Denied; nobody approving ends a third Expired.
 * Delegation: a ServiceAccount the policy trusts creates a session on behalf of
 * alice, which runs as alice's session; naming someone the policy does not
 * cover, or creating as a creator it does not trust, is refused at admission.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecSession } from '../../src/api/types.js';
import { KubeClient } from '../../src/k8s/kube.js';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { eventually, grant, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { API_GROUP_VERSION, grantSubresources, installCrds, waitForApi, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { getSession, waitForPhase } from '../support/sessions.js';

const APPROVERS_SAMPLE = join(REPO_ROOT, 'config/samples/clusterrole-approvers.yaml');

/** `kubectl create` of an ExecSession as `who`; returns kubectl's result (never throws). */
function createAs(who: string, namespace: string, name: string, spec: object): ReturnType<typeof kubectl> {
  const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec };
  return kubectl(['create', '-f', '-'], { kubeconfig: who, input: JSON.stringify(body) });
}

/** The messages of a session's Events, oldest first. */
async function events(namespace: string, name: string): Promise<string[]> {
  const out = await kubectlOk(['-n', namespace, 'get', 'events', '--field-selector', `involvedObject.name=${name}`, '--sort-by=.firstTimestamp', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
  return out.trim().split('\n');
}

/** POSTs JSON through kube-apiserver as the kubeconfig's user; resolves with the HTTP code and the parsed answer. */
async function post(kubeconfig: string, path: string, body: object): Promise<{ code: number; status: { reason?: string; message?: string; code?: number } }> {
  const kc = kubeConfig(kubeconfig);
  const url = new URL(`${kc.getCurrentCluster()?.server ?? ''}${path}`);
  const opts: RequestOptions = { method: 'POST', host: url.hostname, port: url.port, path: url.pathname, headers: { 'Content-Type': 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, status: JSON.parse(Buffer.concat(chunks).toString() || '{}') as { reason?: string; message?: string } }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function condition(s: ExecSession, type: string): { status?: string; reason?: string } {
  return s.status?.conditions?.find((c) => c.type === type) ?? {};
}

describe('approvals', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let alice: string;
  let carol: string;
  let erin: string;

  const path = (name: string, sub: 'approve' | 'deny'): string => `/apis/${API_GROUP_VERSION}/namespaces/${ns.name}/execsessions/${name}/${sub}`;
  /** Approve or deny through kube-apiserver as `who`, the way `kubectl create --raw` does. */
  const decide = (who: string, name: string, sub: 'approve' | 'deny', body: object = {}): ReturnType<typeof kubectl> =>
    kubectl(['create', '--raw', path(name, sub), '-f', '-'], { kubeconfig: who, input: JSON.stringify(body) });
  /** The same, answering with the HTTP code and metav1.Status, for refusals. */
  const refused = async (who: string, name: string, sub: 'approve' | 'deny'): Promise<{ code: number; reason?: string; message?: string }> => {
    const r = await post(who, path(name, sub), {});
    return { code: r.code, reason: r.status.reason, message: r.status.message };
  };

  const policy = (name: string, app: string, timeout: string): object => ({
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name, namespace: ns.name },
    spec: {
      subjects: [{ kind: 'Group', name: 'developers' }], targets: { podSelector: { matchLabels: { app } } }, users: { allowedNames: ['*'] },
      approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], blockSelfApproval: true, timeout },
    },
  });

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('approval');
    await Promise.all([
      runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 }),
      runTargetPod('quick', ns.name, { runAsUser: 1001, runAsGroup: 1001 }),
    ]);
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    // Two approval policies: pod "target" waits up to 10m, pod "quick" only 4s.
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy('needs-approval', 'target', '10m'), policy('quick-timeout', 'quick', '4s')] }) });
    // alice is in approvers too: only blockSelfApproval stops her approving her own session.
    alice = await userKubeconfig('alice', ['developers', 'approvers']);
    carol = await userKubeconfig('carol', ['approvers']);
    erin = await userKubeconfig('erin', ['auditors']);
    operator = suiteOperator();
    await operator.start();
    await waitForApi();
    // The sample role (group approvers may create execsessions/approve and /deny), and erin with the same RBAC but named by no policy.
    await kubectlOk(['apply', '-f', APPROVERS_SAMPLE]);
    await grantSubresources(ns.name, 'erin-approves', ['approve', 'deny'], ['create'], ['erin']);
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    await kubectl(['delete', '-f', APPROVERS_SAMPLE]);
  });

  it('admits alice\'s session naming the approvals it needs, and holds it in WaitingForApproval', async () => {
    const r = await createAs(alice, ns.name, 'first', { podName: 'target', user: 'alice', ttl: '30m' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`allowed by ExecPolicy ${ns.name}/needs-approval once 1 approval\\(s\\) from group "approvers".*approve with: kubectl execsession approve first -n ${ns.name}`));
    const { session } = await waitForPhase(ns.name, 'first', ['WaitingForApproval']);
    assert.match(session.status?.message ?? '', /waiting for 1 more approval\(s\) from group "approvers"/);
    assert.match(session.status?.message ?? '', new RegExp(`approve with: kubectl execsession approve first -n ${ns.name}`));
    assert.deepEqual(condition(session, 'Authorized'), { ...condition(session, 'Authorized'), status: 'False', reason: 'WaitingForApproval' });
    // Nothing runs and no ttl counts while it waits.
    assert.equal(session.status?.helperPod, undefined);
    assert.equal(session.status?.expiresAt, undefined);
    await eventually('the WaitingForApproval event', async () => (await events(ns.name, 'first')).some((e) => e.startsWith('WaitingForApproval: waiting for 1 more approval(s)')));
  });

  it('refuses alice approving her own session (403 SelfApprovalBlocked)', async () => {
    const r = await refused(alice, 'first', 'approve');
    assert.deepEqual([r.code, r.reason], [403, 'SelfApprovalBlocked']);
    assert.match(r.message ?? '', /user "alice" cannot approve or deny a session they asked for or created/);
    // kubectl shows the same message.
    assert.match((await decide(alice, 'first', 'approve')).stderr, /cannot approve or deny a session they asked for/);
  });

  it('refuses someone RBAC lets through but the policy does not name (403 NotAnApprover)', async () => {
    const r = await refused(erin, 'first', 'deny');
    assert.deepEqual([r.code, r.reason], [403, 'NotAnApprover']);
    assert.match(r.message ?? '', /user "erin" may not approve or deny this session: only group "approvers" may/);
  });

  it('leaves it to RBAC to refuse someone without execsessions/approve (403 Forbidden from kube-apiserver)', async () => {
    const r = await refused(await userKubeconfig('frank', ['developers']), 'first', 'approve');
    assert.deepEqual([r.code, r.reason], [403, 'Forbidden']);
    assert.match(r.message ?? '', /cannot create resource "execsessions\/approve" in API group "subresources.execsession.dev"/);
  });

  it('does not count an approval written into status without the API', async () => {
    const forged = { decision: 'Approved' as const, username: 'carol', groups: ['approvers'], at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), signature: Buffer.alloc(32, 1).toString('base64') };
    await new KubeClient(kubeConfig()).patchSessionStatus(ns.name, 'first', { approvals: [forged] });
    const s = await eventually('the forged entry to be reported', async () => {
      const x = await getSession(ns.name, 'first');
      return /not counted: "carol" \(its signature does not verify/.test(x.status?.message ?? '') ? x : undefined;
    });
    assert.equal(s?.status?.phase, 'WaitingForApproval');
    await new KubeClient(kubeConfig()).patchSessionStatus(ns.name, 'first', { approvals: [] });
  });

  it('starts the session once carol (approvers) approves through the API', async () => {
    const r = await decide(carol, 'first', 'approve', { reason: 'INC-1234 checked' });
    assert.equal(r.code, 0, r.stderr);
    const returned = JSON.parse(r.stdout) as ExecSession;
    assert.equal(returned.metadata.name, 'first');
    const { session } = await waitForPhase(ns.name, 'first', ['Ready']);
    const [approval, ...more] = session.status?.approvals ?? [];
    assert.deepEqual(more, []);
    assert.deepEqual([approval?.decision, approval?.username, approval?.reason], ['Approved', 'carol', 'INC-1234 checked']);
    assert.ok((approval?.signature ?? '').length > 40);
    assert.deepEqual([condition(session, 'Authorized').status, condition(session, 'Authorized').reason], ['True', 'Approved']);
    assert.equal(session.status?.user?.uid, 1000);
    const log = await events(ns.name, 'first');
    assert.ok(log.some((e) => e.startsWith('Approved: approved by "carol"')), log.join('\n'));
  });

  it('refuses approving a session that is no longer waiting (409)', async () => {
    const r = await refused(carol, 'first', 'approve');
    assert.deepEqual([r.code, r.reason], [409, 'NotWaitingForApproval']);
    assert.match(r.message ?? '', /is Ready, not WaitingForApproval/);
  });

  it('ends a session carol denies: Denied, ApprovalDenied, naming her and her reason', async () => {
    assert.equal((await createAs(alice, ns.name, 'second', { podName: 'target', user: 'alice' })).code, 0);
    await waitForPhase(ns.name, 'second', ['WaitingForApproval']);
    const r = await decide(carol, 'second', 'deny', { reason: 'not during the freeze' });
    assert.equal(r.code, 0, r.stderr);
    const { session } = await waitForPhase(ns.name, 'second', ['Denied']);
    assert.match(session.status?.message ?? '', /^denied by user "carol" \(reason: "not during the freeze"\)/);
    assert.equal(condition(session, 'Ready').reason, 'ApprovalDenied');
    assert.equal(session.status?.helperPod, undefined);
  });

  it('ends a session nobody approves in time: Expired, ApprovalTimedOut', async () => {
    assert.equal((await createAs(alice, ns.name, 'late', { podName: 'quick', user: 'alice' })).code, 0);
    await waitForPhase(ns.name, 'late', ['WaitingForApproval']);
    const { session } = await waitForPhase(ns.name, 'late', ['Expired'], 30_000);
    assert.equal(condition(session, 'Ready').reason, 'ApprovalTimedOut');
    assert.match(session.status?.message ?? '', /^not approved within 4s \(ExecPolicy .*\/quick-timeout requires 1 approval\(s\) from group "approvers"; 0 given\)/);
    const r = await refused(carol, 'late', 'approve');
    assert.deepEqual([r.code, r.reason], [410, 'Ended']);
    assert.match(r.message ?? '', /has already ended \(Expired/);
  });
});

/** A kubeconfig holding a ServiceAccount's token, from the TokenRequest API (no token Secrets since 1.24). */
async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  const token = (await kubectlOk(['-n', namespace, 'create', 'token', name, '--duration=1h'])).trim();
  const cluster = kubeConfig().getCurrentCluster();
  const file = join(mkdtempSync(join(tmpdir(), 'execsession-sa-')), 'kubeconfig');
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
    clusters: [{ name: 'local', cluster: { server: cluster?.server, 'certificate-authority-data': cluster?.caData } }],
    users: [{ name: name, user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'local', user: name, namespace } }],
  }), { mode: 0o600 });
  return file;
}

describe('delegation (spec.onBehalfOf)', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let gitops: string;
  let mallory: string;
  let saName: string;

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('delegation');
    saName = `system:serviceaccount:${ns.name}:gitops`;
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await kubectlOk(['-n', ns.name, 'create', 'serviceaccount', 'gitops']);
    await kubectlOk(['-n', ns.name, 'create', 'role', 'sessions', '--verb=create,get', '--resource=execsessions.execsession.dev']);
    await kubectlOk(['-n', ns.name, 'create', 'rolebinding', 'sessions', '--role=sessions', `--serviceaccount=${ns.name}:gitops`, '--user=mallory']);
    // pods/exec for alice and bob, not the ServiceAccount: the RBAC check is about the subject, not the creator.
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice', 'bob']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'gitops', namespace: ns.name },
      spec: {
        subjects: [{ kind: 'User', name: 'alice' }], users: { allowedNames: ['*'] },
        delegation: { trustedCreators: [{ kind: 'ServiceAccount', name: 'gitops', namespace: ns.name }] },
      },
    }) });
    gitops = await serviceAccountKubeconfig(ns.name, 'gitops');
    mallory = await userKubeconfig('mallory', ['developers']);
    operator = suiteOperator();
    await operator.start();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it('runs a session the trusted ServiceAccount creates for alice, as alice\'s session', async () => {
    const r = await createAs(gitops, ns.name, 'for-alice', { podName: 'target', user: 'alice', onBehalfOf: { username: 'alice', groups: ['developers'] } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`allowed for user "alice" by ExecPolicy ${ns.name}/gitops`));
    const { session } = await waitForPhase(ns.name, 'for-alice', ['Ready']);
    assert.equal(session.spec.requester?.username, saName);
    assert.deepEqual(session.spec.onBehalfOf, { username: 'alice', groups: ['developers'] });
    assert.equal(session.status?.user?.uid, 1000);
  });

  it('keeps spec.onBehalfOf immutable', async () => {
    const r = await kubectl(['-n', ns.name, 'patch', 'execsession', 'for-alice', '--type=merge', '-p', '{"spec":{"onBehalfOf":{"username":"bob"}}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.onBehalfOf cannot be changed/);
  });

  it('refuses at admission a subject the policy does not cover', async () => {
    const r = await createAs(gitops, ns.name, 'for-bob', { podName: 'target', user: 'alice', onBehalfOf: { username: 'bob', groups: ['developers'] } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NoPolicy: .*user "bob"/);
  });

  it('refuses a creator the policy does not trust, though the subject is covered', async () => {
    const r = await createAs(mallory, ns.name, 'mallory-for-alice', { podName: 'target', user: 'alice', onBehalfOf: { username: 'alice' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CreatorNotTrusted: user "mallory" is not trusted to create sessions on behalf of user "alice"/);
  });

  it('checks RBAC for the subject: a subject without pods/exec is refused, whoever creates', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'gitops-dave', namespace: ns.name },
      spec: { subjects: [{ kind: 'User', name: 'dave' }], users: { allowedNames: ['*'] }, delegation: { trustedCreators: [{ kind: 'ServiceAccount', name: 'gitops', namespace: ns.name }] } },
    }) });
    const r = await createAs(gitops, ns.name, 'for-dave', { podName: 'target', user: 'alice', onBehalfOf: { username: 'dave' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /RbacDenied: dave may not create pods\/exec .*the session is for dave, created by system:serviceaccount:/);
  });
});
