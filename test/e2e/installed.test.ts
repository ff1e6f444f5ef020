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
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CONTAINERD } from '../cluster/config.js';
import { eventually, kubectl, kubectlOk, requireCluster, type tempNamespace } from '../support/cluster.js';
import { ALICE_ID as ID, InstalledOperator, aliceNamespace, plugin, uninstallOperator } from '../support/installed.js';
import { OPERATOR_NAMESPACE, waitForApi } from '../support/operator.js';
import { containerProcesses, startInSession, waitForPhase } from '../support/sessions.js';

const exec = promisify(execFile);
const SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:execsession-operator`;

describe('the operator installed with kubectl apply -k config/local', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let alice: string;

  before(async () => {
    requireCluster();
    // The images as a user builds them, a clean slate, kubectl apply -k config/local, the rollout.
    await new InstalledOperator().start();
    await waitForApi(120_000);
    ({ ns, alice } = await aliceNamespace('installed'));
  });

  after(async () => {
    // The sessions go first, while the operator still runs to remove their finalizers.
    if (ns) await kubectl(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
    await uninstallOperator();
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
