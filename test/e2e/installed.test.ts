/**
 * The operator installed the way users install it (issue 11): the images from
 * `npm run images`, `kubectl apply -k config/local` (2 replicas, the shipped
 * ServiceAccount and RBAC, no cluster-admin), kube-apiserver reaching the webhook
 * and the aggregated API through their Services. A one-shot session and an attach
 * go through it; it runs as 65532 on a read-only root filesystem; uninstalling
 * leaves nothing behind for the suites after it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CONTAINERD, REPO_ROOT } from '../cluster/config.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig, type KubectlResult } from '../support/cluster.js';
import { OPERATOR_NAMESPACE, grantSubresources, waitForApi } from '../support/operator.js';
import { runTargetPod } from '../support/pods.js';
import { containerProcesses, startInSession, waitForPhase } from '../support/sessions.js';

const exec = promisify(execFile);
const ID = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)';
const LOCAL = join(REPO_ROOT, 'config/local');
const SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:execsession-operator`;

/** `kubectl execsession ARGS` as the kubeconfig's user. */
function plugin(kubeconfig: string, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const child = execFile('kubectl', ['execsession', ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/**
 * Removes what config/local installed but the CRDs (sessions stay on record; deleting
 * the CRDs would wait on sessions whose finalizer no operator removes any more), and
 * what the operator registers itself; waits until the namespace is gone.
 */
async function uninstall(): Promise<void> {
  const rendered = parseAllDocuments(await kubectlOk(['kustomize', LOCAL])).map((d) => d.toJS() as { kind: string });
  const items = rendered.filter((o) => o.kind !== 'CustomResourceDefinition');
  await kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=true', '--timeout=180s'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 200_000 });
  // The operator registers these itself (src/admission/webhook.ts); the kustomization does not list them.
  await kubectl(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev', '--ignore-not-found']);
  await kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
}

describe('the operator installed with kubectl apply -k config/local', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let alice: string;

  before(async () => {
    requireCluster();
    // The images, imported into the local cluster's containerd, as a user would build them.
    await exec(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'scripts/images.ts'), '--out', join(REPO_ROOT, 'dist/images')], { cwd: REPO_ROOT, timeout: 600_000 });
    // Whatever earlier suites' host operators left (a selector-less Service to the host, its Lease).
    await uninstall();
    await kubectlOk(['apply', '-k', LOCAL], { timeoutMs: 120_000 });
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/execsession-operator', '--timeout=240s'], { timeoutMs: 250_000 });
    await waitForApi(120_000);
    ns = await tempNamespace('installed');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    alice = await userKubeconfig('alice', ['developers']);
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '10m', max: '1h' } },
    }) });
  });

  after(async () => {
    // The sessions go first, while the operator still runs to remove their finalizers.
    if (ns) await kubectl(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
    await uninstall();
  });

  it('runs 2 of 2 replicas from the locally built image, as 65532, on a read-only root filesystem', async () => {
    const ready = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'execsession-operator', '-o', 'jsonpath={.status.readyReplicas}/{.spec.replicas} {.spec.template.spec.containers[0].image}']);
    assert.equal(ready, '2/2 execsession:0.1.0');
    const ids = (await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=execsession-operator', '-o', 'jsonpath={.items[*].status.containerStatuses[0].containerID}'])).split(' ');
    assert.equal(ids.length, 2);
    const tasks = (await exec('ctr', ['--address', CONTAINERD.socket, '-n', CONTAINERD.namespace, 'task', 'ls'])).stdout;
    for (const id of ids) {
      const pid = new RegExp(`^${id.replace('containerd://', '')}\\s+(\\d+)`, 'm').exec(tasks)?.[1];
      assert.ok(pid, `no task for ${id}`);
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      assert.match(status, /^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
      assert.match(status, /^CapEff:\s+0+$/m);
      const root = (await readFile(`/proc/${pid}/mountinfo`, 'utf8')).split('\n').find((l) => l.split(' ')[4] === '/');
      assert.match(root ?? '', /^\S+ \S+ \S+ \S+ \/ ro[, ]/, root);
    }
  });

  it('stamps, authorizes and runs a one-shot session as alice, with the shipped helper image', async () => {
    const r = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--name', 'once', '--', 'id']);
    assert.deepEqual([r.code, r.stdout], [0, `${ID}\n`], r.stderr);
    const { session } = await waitForPhase(ns.name, 'once', ['Succeeded']);
    assert.equal(session.spec.requester?.username, 'alice');
  });

  it('attaches through kube-apiserver and the execsession-api Service', async () => {
    const c = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--name', 'shell', '--wait']);
    assert.equal(c.code, 0, c.stderr);
    const id = await plugin(alice, ['-n', ns.name, 'attach', 'shell', '-T', '--', 'id']);
    assert.deepEqual([id.code, id.stdout], [0, `${ID}\n`], id.stderr);
  });

  it('runs under the shipped RBAC, not cluster-admin', async () => {
    const can = async (args: string[]): Promise<string> => (await kubectl(['auth', 'can-i', ...args, '--as', SA])).stdout.trim();
    assert.equal(await can(['patch', 'execsessions.execsession.dev/status', '-n', ns.name]), 'yes');
    assert.equal(await can(['create', 'pods', '-n', OPERATOR_NAMESPACE]), 'yes');
    for (const denied of [['create', 'pods', '-n', ns.name], ['get', 'secrets', '-n', ns.name], ['create', 'pods/exec', '-n', ns.name], ['delete', 'nodes'], ['*', '*']]) {
      assert.equal(await can(denied), 'no', denied.join(' '));
    }
  });

  it('loses nothing when the leader pod is deleted: the other replica takes over, and a live session still expires on time, its processes and helper gone', async () => {
    const c = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--name', 'live', '--ttl', '30s', '--wait']);
    assert.equal(c.code, 0, c.stderr);
    const { session } = await waitForPhase(ns.name, 'live', ['Ready']);
    await startInSession(session, 'background', ['sh', '-c', 'sleep 1011 & wait']);
    await eventually('the session\'s process to run', async () => (await containerProcesses(ns.name, 'target')).some((p) => p.includes('sleep 1011')));
    const holder = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'lease', '-o', 'jsonpath={.items[0].spec.holderIdentity}']);
    assert.match(holder, /^execsession-operator-/);
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', holder, '--wait=false']);
    await eventually('another replica to lead', async () => {
      const now = (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'lease', '-o', 'jsonpath={.items[0].spec.holderIdentity}'])).stdout;
      return now !== '' && now !== holder;
    }, 60_000, 500);
    const { session: expired, seenAt } = await waitForPhase(ns.name, 'live', ['Expired'], 60_000);
    const late = seenAt - Date.parse(expired.status?.expiresAt ?? '');
    assert.ok(late < 1000 + 200, `Expired ${late} ms after expiresAt (polled every 50 ms)`);
    assert.ok(!(await containerProcesses(ns.name, 'target')).some((p) => p.includes('sleep 1011')), 'the session\'s process is gone');
    const helper = session.status?.helperPod?.name ?? '';
    await eventually('the helper pod to be gone', async () => (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pod', helper])).code !== 0, 30_000);
    const r = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--name', 'after', '--', 'id']);
    assert.deepEqual([r.code, r.stdout], [0, `${ID}\n`], r.stderr);
  });

  it('keeps sessions Ready and attachable through kubectl rollout restart', async () => {
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'restart', 'deployment/execsession-operator']);
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/execsession-operator', '--timeout=240s'], { timeoutMs: 250_000 });
    await waitForApi(120_000);
    assert.equal((await waitForPhase(ns.name, 'shell', ['Ready'])).session.status?.phase, 'Ready');
    const id = await plugin(alice, ['-n', ns.name, 'attach', 'shell', '-T', '--', 'id']);
    assert.deepEqual([id.code, id.stdout], [0, `${ID}\n`], id.stderr);
  });
});
