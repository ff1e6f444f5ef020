/**
 * The operator installed as users install it (kustomize or Helm) instead of as a
 * host process: the images, a clean slate, and a namespace where alice may run
 * sessions. Used by test/e2e/installed.test.ts and test/e2e/helm.test.ts.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../cluster/config.js';
import { grant, kubectl, kubectlOk, tempNamespace, userKubeconfig, type KubectlResult } from './cluster.js';
import { OPERATOR_NAMESPACE, grantSubresources } from './operator.js';
import { runTargetPod } from './pods.js';

const exec = promisify(execFile);
export const LOCAL_OVERLAY = join(REPO_ROOT, 'config/local');
export const ALICE_ID = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)';

/** `npm run images`: both images, imported into the local cluster's containerd. */
export async function buildImages(): Promise<void> {
  await exec(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'scripts/images.ts'), '--out', join(REPO_ROOT, 'dist/images')], { cwd: REPO_ROOT, timeout: 600_000 });
}

/**
 * Removes what config/local installs but the CRDs (sessions stay on record; deleting
 * the CRDs would wait on sessions whose finalizer no operator removes any more), and
 * what the operator registers itself; waits until the namespace is gone. Also clears
 * what host operators of earlier suites left (a selector-less Service to the host).
 */
export async function uninstallOperator(): Promise<void> {
  const rendered = parseAllDocuments(await kubectlOk(['kustomize', LOCAL_OVERLAY])).map((d) => d.toJS() as { kind: string });
  const items = rendered.filter((o) => o.kind !== 'CustomResourceDefinition');
  await kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=true', '--timeout=180s'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 200_000 });
  // The operator registers these itself (src/admission/webhook.ts); neither kustomize nor Helm lists them.
  await kubectl(['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'execsession.dev', '--ignore-not-found']);
  await kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
}

/** A namespace with a target pod where alice (group developers) may run sessions and attach. */
export async function aliceNamespace(prefix: string): Promise<{ ns: Awaited<ReturnType<typeof tempNamespace>>; alice: string }> {
  const ns = await tempNamespace(prefix);
  await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
  const alice = await userKubeconfig('alice', ['developers']);
  await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice']);
  await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
  await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: ns.name },
    spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '10m', max: '1h' } },
  }) });
  return { ns, alice };
}

/** `kubectl execsession ARGS` as the kubeconfig's user. */
export function plugin(kubeconfig: string, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const child = execFile('kubectl', ['execsession', ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/**
 * The operator installed with `kubectl apply -k config/local` from the locally built
 * images, with the same start/stop as OperatorProcess (for npm run demo -- --in-cluster).
 */
export class InstalledOperator {
  /** Builds and imports the images, clears what earlier operators left, applies config/local, waits for the rollout. */
  async start(): Promise<void> {
    await buildImages();
    await uninstallOperator();
    await kubectlOk(['apply', '-k', LOCAL_OVERLAY], { timeoutMs: 120_000 });
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/execsession-operator', '--timeout=240s'], { timeoutMs: 250_000 });
  }

  /** Uninstalls it (the CRDs and the sessions on record stay). */
  async stop(): Promise<void> {
    await uninstallOperator();
  }
}
