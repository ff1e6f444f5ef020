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
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { CONTAINERD, REPO_ROOT } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, kubectl, kubectlOk, requireCluster, type tempNamespace } from '../../tools/support/cluster.js';
import { ALICE_ID as ID, InstalledOperator, LOCAL_OVERLAY, aliceNamespace, plugin, uninstallOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, waitForApi } from '../../tools/support/operator.js';
import { containerProcesses, startInSession, waitForPhase } from '../support/sessions.js';

const exec = promisify(execFile);
const SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:execsession-operator`;

function parse(yaml: string): Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }> {
  return parseAllDocuments(yaml).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } });
}

/** One line per resource, names and verb, as `kubectl auth can-i --list` prints them (without the non-resource URLs). */
async function canIList(user: string, namespace: string): Promise<string[]> {
  const out = await kubectlOk(['auth', 'can-i', '--list', '--as', user, '-n', namespace]);
  const keys: string[] = [];
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S+)\s+\[[^\]]*\]\s+\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/.exec(line);
    if (!m) continue;
    for (const verb of m[3]!.split(' ').filter(Boolean)) keys.push(`${m[1]} [${m[2]}] ${verb}`);
  }
  return keys;
}

/** The rows of config/README.md's RBAC table, one key per verb in canIList's form. */
function rbacTable(readme: string): Array<{ where: string; key: string }> {
  const table = /<!-- rbac-table -->\n([\s\S]*?)<!-- \/rbac-table -->/.exec(readme)?.[1];
  assert.ok(table, 'config/README.md has the RBAC table');
  const rows: Array<{ where: string; key: string }> = [];
  for (const line of table.split('\n').slice(2).filter((l) => l.startsWith('|'))) {
    const [where, resource, names, verbs] = line.split('|').slice(1, 5).map((c) => c.trim().replace(/`/g, ''));
    for (const verb of verbs!.split(',').map((v) => v.trim())) rows.push({ where: where!, key: `${resource} [${names}] ${verb}` });
  }
  return rows;
}

describe('the operator installed with kubectl apply -k config/local', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  /** The last test deletes it itself, before it uninstalls. */
  let nsGone = false;
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
    if (ns && !nsGone) await kubectl(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
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

  it('may do exactly what config/README.md says the operator needs: kubectl auth can-i --list against its table', async () => {
    const documented = rbacTable(await readFile(join(REPO_ROOT, 'config/README.md'), 'utf8'));
    for (const where of [OPERATOR_NAMESPACE, 'kube-system', ns.name]) {
      const expected = [...new Set(documented.filter((r) => r.where === 'every namespace' || r.where === where).map((r) => r.key))].sort();
      // What every authenticated user may (a ServiceAccount with no binding) is not the operator's doing.
      const everyone = new Set(await canIList(`system:serviceaccount:${OPERATOR_NAMESPACE}:nobody`, where));
      const actual = (await canIList(SA, where)).filter((k) => !everyone.has(k)).sort();
      assert.deepEqual(actual, expected, `in namespace ${where}: granted (left) vs documented (right)`);
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

  it('keeps sessions Ready and attachable through kubectl rollout restart; an attach it cuts says so and how to attach again', async () => {
    const live = plugin(alice, ['-n', ns.name, 'attach', 'shell', '-T', '--', 'sleep', '1012']);
    await eventually('the attached command to run', async () => (await containerProcesses(ns.name, 'target')).some((p) => p.includes('sleep 1012')));
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'restart', 'deployment/execsession-operator']);
    const cut = await live;
    assert.notEqual(cut.code, 0, 'the cut attach fails');
    assert.match(cut.stderr, new RegExp(`restarting and cut this attach; the session is still live: attach again with: kubectl execsession attach shell -n ${ns.name}`));
    assert.doesNotMatch(cut.stderr, /before the session reported how it ended/, 'the status reaches the CLI before the replica exits');
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/execsession-operator', '--timeout=240s'], { timeoutMs: 250_000 });
    await waitForApi(120_000);
    assert.equal((await waitForPhase(ns.name, 'shell', ['Ready'])).session.status?.phase, 'Ready');
    const id = await plugin(alice, ['-n', ns.name, 'attach', 'shell', '-T', '--', 'id']);
    assert.deepEqual([id.code, id.stdout], [0, `${ID}\n`], id.stderr);
  });
  it('refuses kubectl delete -k config/local while a session lives, naming it and how to end it; lets it go once the session ended', async () => {
    const c = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--name', 'guarded', '--ttl', '10m', '--wait']);
    assert.equal(c.code, 0, c.stderr);
    const r = await kubectl(['delete', '-k', LOCAL_OVERLAY, '--wait=false']);
    assert.notEqual(r.code, 0, 'kubectl delete -k fails');
    assert.match(r.stderr, new RegExp(`UninstallGuard: execsession refuses to delete namespaces execsession-system while \\d+ sessions? live: .*${ns.name}/guarded \\(Ready, expires [^)]+\\).*kubectl execsession revoke NAME -n NAMESPACE`));
    // All or nothing: every object config/local installs is still there, and the operator still serves.
    for (const o of parse(await kubectlOk(['kustomize', LOCAL_OVERLAY]))) {
      const where = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      assert.equal((await kubectl(['get', ...where, `${o.kind}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(/\.$/, ''), o.metadata.name])).code, 0, `${o.kind}/${o.metadata.name} is still there`);
    }
    assert.equal(await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'execsession-operator', '-o', 'jsonpath={.status.readyReplicas}']), '2');
    for (const live of ['guarded', 'shell']) {
      const revoked = await plugin(ADMIN_KUBECONFIG, ['-n', ns.name, 'revoke', live]);
      assert.equal(revoked.code, 0, revoked.stderr);
    }
    // Their namespace too, while the operator still runs to take the finalizers off.
    await kubectlOk(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
    nsGone = true;
    await uninstallOperator();
    assert.notEqual((await kubectl(['get', 'namespace', OPERATOR_NAMESPACE])).code, 0, 'the operator is uninstalled');
  });
});
