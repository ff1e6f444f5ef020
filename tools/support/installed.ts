/**
 * The operator installed as users install it (kustomize or Helm) instead of as a
 * host process: the images, a clean slate, and a namespace where alice may run
 * sessions. Used by test/e2e/installed.test.ts and test/e2e/helm.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { APISERVER_URL, REPO_ROOT } from '../cluster/config.js';
import { eventually, grant, kubectl, kubectlOk, tempNamespace, userKubeconfig, type KubectlResult } from './cluster.js';
import { OPERATOR_NAMESPACE, OperatorProcess, grantSubresources, waitForApi, type SuiteOperator } from './operator.js';
import { runTargetPod } from './pods.js';

const exec = promisify(execFile);
export const LOCAL_OVERLAY = join(REPO_ROOT, 'config/local');
export const ALICE_ID = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)';

/**
 * `npm run images`: both images, imported into the local cluster's containerd; once
 * per test command when it says it built them (EXECSESSION_E2E_IMAGES=built).
 */
export async function buildImages(): Promise<void> {
  if (process.env.EXECSESSION_E2E_IMAGES === 'built') return;
  await exec(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'scripts/images.ts'), '--out', join(REPO_ROOT, 'dist/images')], { cwd: REPO_ROOT, timeout: 600_000 });
}

/**
 * Removes what config/local installs but the CRDs (sessions stay on record; deleting
 * the CRDs would wait on sessions whose finalizer no operator removes any more), and
 * what the operator registers itself; waits until the namespace is gone. Also clears
 * what host operators of earlier suites left (a selector-less Service to the host).
 * While a running operator's uninstall guard refuses (sessions still live, for
 * example ones a suite's deleted namespace held, which the operator is ending), it
 * tries again, for up to two minutes; then it fails with the guard's message.
 */
export async function uninstallOperator(): Promise<void> {
  const rendered = parseAllDocuments(await kubectlOk(['kustomize', LOCAL_OVERLAY])).map((d) => d.toJS() as { kind: string });
  const items = rendered.filter((o) => o.kind !== 'CustomResourceDefinition');
  await eventually('the uninstall guard to let the operator go (no session live)', async () => {
    const r = await kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=true', '--timeout=180s'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 200_000 });
    if (r.stderr.includes('UninstallGuard')) throw new Error(r.stderr.trim());
    return true;
  }, 120_000, 1000);
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

/** `kubectl logs` of the operator's pods, the last `lines` of each, prefixed with the pod's name. */
async function podLogs(lines: number): Promise<string> {
  return (await kubectl(['-n', OPERATOR_NAMESPACE, 'logs', '-l', OPERATOR_SELECTOR, '--prefix', `--tail=${lines}`, '--max-log-requests=10'])).stdout;
}

export const OPERATOR_SELECTOR = 'app.kubernetes.io/name=execsession-operator';

/**
 * An overlay over config/local that appends `args` to the operator's flags, as a
 * user sets flags (a patch in their own overlay); config/local itself without args.
 */
function overlay(args: string[]): string {
  if (args.length === 0) return LOCAL_OVERLAY;
  const dir = join(REPO_ROOT, 'dist/overlays', `e2e-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const patch = args.map((value) => ({ op: 'add', path: '/spec/template/spec/containers/0/args/-', value }));
  writeFileSync(join(dir, 'kustomization.yaml'), stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
    resources: [relative(dir, LOCAL_OVERLAY)],
    patches: [{ target: { kind: 'Deployment', name: 'execsession-operator' }, patch: JSON.stringify(patch) }],
  }));
  return dir;
}

/**
 * The operator installed with `kubectl apply -k config/local` from the locally built
 * images (2 replicas, the shipped ServiceAccount and RBAC), with the same start/stop
 * as OperatorProcess: for npm run demo -- --in-cluster and the suites run with
 * EXECSESSION_E2E_OPERATOR=cluster. `args` are added to the Deployment's flags.
 */
export class InstalledOperator implements SuiteOperator {
  constructor(private readonly args: string[] = []) {}

  /** Builds and imports the images, clears what earlier operators left, applies the overlay, waits for the leader's controller. */
  async start(): Promise<void> {
    await buildImages();
    await uninstallOperator();
    await kubectlOk(['apply', '-k', overlay(this.args)], { timeoutMs: 120_000 });
    await this.started();
  }

  /** Waits for the rollout, then for the replica holding the Lease to run its controller, then for the aggregated API. */
  async started(): Promise<void> {
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/execsession-operator', '--timeout=240s'], { timeoutMs: 250_000 });
    // What a suite in this mode runs against: both replicas ready, from the image npm run images built.
    const ready = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'execsession-operator', '-o', 'jsonpath={.status.readyReplicas}/{.spec.replicas} {.spec.template.spec.containers[0].image}']);
    if (ready !== '2/2 execsession:0.1.0') throw new Error(`the installed operator is not 2/2 ready from the local image: ${ready}`);
    await eventually('a replica to lead and run its controller', async () => {
      const holder = (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'lease', 'execsession-operator', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout.trim();
      if (holder === '') return false;
      const log = await kubectl(['-n', OPERATOR_NAMESPACE, 'logs', holder]);
      return log.code === 0 && log.stdout.includes('"controller started"');
    }, 120_000, 500);
    await waitForApi(120_000);
  }

  /** Uninstalls it (the CRDs and the sessions on record stay). */
  async stop(): Promise<void> {
    await uninstallOperator();
  }

  /** Every replica killed at once (force-deleted, no grace): the Deployment starts new ones. */
  async crash(): Promise<void> {
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', '-l', OPERATOR_SELECTOR, '--grace-period=0', '--force', '--wait=false']);
  }

  /** After crash(): the Deployment's new replicas, one leading. */
  async startAgain(): Promise<void> {
    await this.started();
  }

  logs(lines = 200): Promise<string> {
    return podLogs(lines);
  }

  /** A ready replica's aggregated API port, straight, without kube-apiserver (the host routes the pod network). */
  async apiAddress(): Promise<{ host: string; port: number }> {
    const ips = (await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', OPERATOR_SELECTOR, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/);
    if (!ips[0]) throw new Error('no operator replica runs');
    return { host: ips[0], port: 8443 };
  }
}

/** How the suites run the operator: a host process (the default) or installed (EXECSESSION_E2E_OPERATOR=cluster). */
export const OPERATOR_MODE: 'process' | 'cluster' = process.env.EXECSESSION_E2E_OPERATOR === 'cluster' ? 'cluster' : 'process';

/**
 * The operator a suite runs, with extra flags: a host process, or with
 * EXECSESSION_E2E_OPERATOR=cluster installed from config/local with the flags in an
 * overlay, the lease as short as the host process's, and --public-server set as
 * the README tells users (so status.attach.url names the address users reach).
 */
export function suiteOperator(args: string[] = []): SuiteOperator {
  if (OPERATOR_MODE === 'process') return new OperatorProcess(args);
  return new InstalledOperator(['--lease-duration=5s', `--public-server=${APISERVER_URL}`, ...args]);
}
