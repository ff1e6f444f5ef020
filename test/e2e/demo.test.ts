/**
 * `npm run demo`, as a newcomer runs it, on the running cluster: with
 * `--command id` it installs everything, starts the operator, creates a session
 * as alice on the sample pod and prints alice's identity, exiting 0. Whatever it
 * installed in namespace default is removed afterwards. With --in-cluster, the
 * same through the operator installed from its images (config/local).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, kubectl, requireCluster } from '../../tools/support/cluster.js';

describe('npm run demo', () => {
  after(async () => {
    await kubectl(['-n', 'default', 'delete', 'execsessions', '--all', '--wait=false']);
    await kubectl(['-n', 'default', 'delete', 'pod/target', 'role/demo-sessions', 'rolebinding/demo-sessions', 'role/demo-exec', 'rolebinding/demo-exec', 'role/demo-attach', 'rolebinding/demo-attach', '--ignore-not-found', '--wait=false']);
    await kubectl(['delete', 'clusterexecpolicy', 'developers', '--ignore-not-found']);
  });

  it('runs a command as alice in the sample pod and leaves the running cluster up', () => {
    requireCluster();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/demo.ts'), '--command', 'id'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `demo exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)');
    assert.match(r.stderr, /using the local cluster that already runs/);
    assert.match(r.stderr, /the cluster keeps running/);
  });

  it('runs it through the operator installed from its images with --in-cluster, and uninstalls it after', () => {
    requireCluster();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/demo.ts'), '--in-cluster', '--command', 'id'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, `demo exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)');
    assert.match(r.stderr, /installing them with kubectl apply -k config\/local/);
    assert.match(r.stderr, /uninstalling the operator/);
    assert.notEqual(spawnSync('kubectl', ['--kubeconfig', ADMIN_KUBECONFIG, 'get', 'namespace', 'execsession-system']).status, 0, 'the operator is uninstalled');
  });
});
