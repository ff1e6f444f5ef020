/**
 * Start-up errors on the real cluster (issue 17): the operator, started as an
 * identity without RBAC or for a namespace that does not exist, says what is
 * missing and how to fix it, prints no stack trace, and exits non-zero. A missing
 * CRD is covered by src/k8s/startup.test.ts (removing the CRDs here would end
 * every other suite's sessions).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { HOST_IP, REPO_ROOT } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, kubectl, requireCluster, userKubeconfig } from '../../tools/support/cluster.js';
import { installCrds } from '../../tools/support/operator.js';

/** Runs the operator as a process until it exits (30 s at most); its exit code and output. */
function startOperator(kubeconfig: string, args: string[] = []): Promise<{ code: number | string; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/main.ts'), '--webhook-listen', `${HOST_IP}:0`, '--api-listen', `${HOST_IP}:0`, '--leader-elect=false', ...args],
      { cwd: REPO_ROOT, timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, KUBECONFIG: kubeconfig } }, (err, stdout, stderr) => {
        const code = err ? (err.killed ? 'timeout: still running after 30 s' : typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      });
  });
}

const NO_STACK = /\n\s+at \S+ \(|\n\s+at file:/;

describe('operator start-up errors', () => {
  before(async () => {
    requireCluster();
    await installCrds();
  });

  it('as an identity with no RBAC: names the identity and the rule it lacks, how to apply the RBAC; exit 1, no stack trace', async () => {
    const nobody = await userKubeconfig('execsession-nobody');
    const r = await startOperator(nobody);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^execsession operator: the operator's identity "execsession-nobody" may not get namespaces \(API group ""\).*: it is missing RBAC\. Apply the operator's RBAC: kubectl apply -k config\/rbac .*The rule it needs: \{apiGroups: \[""\], resources: \["namespaces"\], verbs: \["get"\]\}/m);
    assert.doesNotMatch(r.out, NO_STACK, 'no stack trace');
  });

  it('for a namespace that does not exist: names it and the commands that make it; exit 1, no stack trace', async () => {
    const missing = `execsession-missing-${process.pid}`;
    assert.notEqual((await kubectl(['get', 'namespace', missing])).code, 0, 'the namespace does not exist');
    const r = await startOperator(ADMIN_KUBECONFIG, ['--namespace', missing]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`^execsession operator: namespace "${missing}" does not exist; .*Create it: kubectl create namespace ${missing} && kubectl label namespace ${missing} pod-security\\.kubernetes\\.io/enforce=privileged`, 'm'));
    assert.doesNotMatch(r.out, NO_STACK, 'no stack trace');
    assert.notEqual((await kubectl(['get', 'namespace', missing])).code, 0, 'the operator created nothing');
  });
});
