/**
 * `npm run demo`: the one command a newcomer runs. Brings up the local cluster
 * if none runs, installs the CRDs, the sample policy, the sample target pod and
 * RBAC for user alice (group developers), starts the operator, and then, as
 * alice, creates a session on the sample pod and attaches to it:
 *
 *   kubectl execsession create target -u alice --ttl 15m --attach
 *
 * On exit it stops the operator, and the cluster if it started it (unless --keep).
 * With --in-cluster the operator is not a host process: `npm run images` builds its
 * images and `kubectl apply -k config/local` installs it (2 replicas under the
 * shipped RBAC); on exit it is uninstalled again (the CRDs stay).
 *
 *   npm run demo                       interactive shell as alice in the sample pod
 *   npm run demo -- --command id       run one command instead, print its output, exit with its code
 *   npm run demo -- --keep             leave the cluster running afterwards
 *   npm run demo -- --in-cluster       through the operator installed from its images
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { down, isRunning, up } from '../tools/cluster/cluster.js';
import { REPO_ROOT, STATE_DIR } from '../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, grant, kubectl, kubectlOk, userKubeconfig } from '../tools/support/cluster.js';
import { InstalledOperator } from '../tools/support/installed.js';
import { OperatorProcess, grantSubresources, installCrds, waitForApi } from '../tools/support/operator.js';

const step = (text: string): void => void process.stderr.write(`\x1b[1mdemo:\x1b[0m ${text}\n`);

/** What alice needs in namespace default, besides the policy: sessions, pods/exec, attach. */
async function grantAlice(): Promise<void> {
  for (const role of ['demo-sessions', 'demo-exec']) await kubectl(['-n', 'default', 'delete', 'role,rolebinding', role, '--ignore-not-found']);
  await grant('default', 'demo-sessions', ['create', 'get', 'list', 'watch', 'delete'], 'execsessions.execsession.dev', ['alice']);
  await grant('default', 'demo-exec', ['create', 'get'], 'pods/exec', ['alice']);
  await grantSubresources('default', 'demo-attach', ['attach', 'revoke', 'extend'], ['create', 'get'], ['alice']);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { command: { type: 'string' }, keep: { type: 'boolean' }, 'in-cluster': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: npm run demo [-- --command CMD] [-- --keep] [-- --in-cluster]\n');
    return 0;
  }
  const startedHere = !(await isRunning());
  if (startedHere) {
    step('starting the local cluster (kube-apiserver, etcd, kubelet, containerd); about 30 s once `npm run setup` has built it');
    await up();
  } else {
    step('using the local cluster that already runs');
  }
  const inCluster = values['in-cluster'] === true;
  const operator = inCluster ? new InstalledOperator() : new OperatorProcess();
  try {
    if (inCluster) {
      // Before the CRDs and policy below: the install brings its own namespace (labelled for the privileged helpers).
      step('building the operator and helper images (npm run images) and installing them with kubectl apply -k config/local (2 replicas, the shipped RBAC)');
      await operator.start();
    }
    step('installing the CRDs, the sample ClusterExecPolicy "developers" and the sample pod "target" in namespace default');
    await installCrds();
    await kubectlOk(['apply', '-f', join(REPO_ROOT, 'config/samples/clusterexecpolicy-developers.yaml'), '-f', join(REPO_ROOT, 'config/samples/target-pod.yaml')]);
    await grantAlice();
    const alice = await userKubeconfig('alice', ['developers']);
    await kubectlOk(['-n', 'default', 'wait', '--for=condition=Ready', 'pod/target', '--timeout=60s']);
    if (!inCluster) {
      step('starting the operator (admission webhook, aggregated API, controller)');
      await operator.start();
    }
    await waitForApi();
    await eventually('the sample policy to be valid', async () => (await kubectl(['get', 'clusterexecpolicy', 'developers', '-o', 'jsonpath={.status.valid}'])).stdout === 'true', 30_000);
    const command = values.command ? ['--', ...values.command.split(' ')] : ['--attach'];
    step(`as alice (group developers): kubectl execsession create target -u alice --ttl 15m ${command.join(' ')}`);
    if (!values.command) step('you get a shell as alice inside the sample pod; try `id`, `ps`; Ctrl-D ends it');
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/kubectl-execsession'), 'create', 'target', '-u', 'alice', '--ttl', '15m', '-n', 'default', ...command], {
        stdio: 'inherit',
        env: { ...process.env, KUBECONFIG: alice, KUBECACHEDIR: join(STATE_DIR, 'kubectl-cache') },
      });
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    step(`the session ended (exit ${code}); see it with: kubectl --kubeconfig ${ADMIN_KUBECONFIG} get execsessions -n default`);
    return code;
  } finally {
    if (inCluster) {
      step('uninstalling the operator (the demo sessions first, then config/local but the CRDs)');
      // Sessions first, while the operator still runs to end them and remove their finalizers.
      await kubectl(['-n', 'default', 'delete', 'execsessions', '--all', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
    }
    await operator.stop();
    if (startedHere && !values.keep) {
      step('stopping the local cluster (keep it with: npm run demo -- --keep)');
      await down();
    } else {
      step(`the cluster keeps running; stop it with: npm run cluster:down`);
    }
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
