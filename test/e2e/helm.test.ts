/**
 * The Helm chart (issue 11, item 4), with real helm (built from helm.sh/helm/v3
 * by the set-up): it lints; with default values it renders what kustomize renders
 * from config/default, and values change only what they name; it installs on the
 * local cluster (2 of 2 replicas from the locally built images), runs a session
 * through the installed operator, and uninstalls.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, kubectl, kubectlOk, requireCluster, type tempNamespace } from '../../tools/support/cluster.js';
import { ALICE_ID, aliceNamespace, buildImages, plugin, uninstallOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, waitForApi } from '../../tools/support/operator.js';

const exec = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts/execsession');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

async function helm(args: string[]): Promise<string> {
  const { stdout } = await exec('helm', args, { env: { ...process.env, KUBECONFIG: ADMIN_KUBECONFIG }, timeout: 400_000, maxBuffer: 16 << 20 });
  return stdout;
}

const parse = (text: string): K8sObject[] => parseAllDocuments(text).map((d) => d.toJS() as K8sObject).filter((o) => o?.kind);
const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function template(set: string[] = []): Promise<Map<string, K8sObject>> {
  // Without the helm test hook (templates/tests), which kustomize has no counterpart of.
  const objs = parse(await helm(['template', 'execsession', CHART, '-n', OPERATOR_NAMESPACE, '--kube-version', '1.37.2', '--skip-tests', ...set.flatMap((s) => ['--set', s])]));
  return new Map(objs.map((o) => [key(o), o]));
}

describe('Helm chart charts/execsession', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>> | undefined;

  after(async () => {
    if (ns) await kubectl(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
    await helm(['uninstall', 'execsession', '-n', OPERATOR_NAMESPACE, '--wait', '--ignore-not-found']).catch(() => '');
    await uninstallOperator();
  });

  it('passes helm lint', async () => {
    assert.match(await helm(['lint', CHART, '--strict']), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('holds the CRDs of crds/, byte for byte', async () => {
    const files = (await readdir(join(REPO_ROOT, 'crds'))).filter((f) => f.startsWith('execsession.dev_'));
    assert.deepEqual((await readdir(join(CHART, 'crds'))).sort(), files.sort());
    for (const f of files) assert.equal(await readFile(join(CHART, 'crds', f), 'utf8'), await readFile(join(REPO_ROOT, 'crds', f), 'utf8'), f);
  });

  it('renders, with default values, the objects kustomize renders from config/default', async () => {
    const chart = await template();
    const kustomize = new Map(parse(await kubectlOk(['kustomize', join(REPO_ROOT, 'config/default')]))
      // Helm installs into a namespace it is given, and the CRDs from crds/ (checked above).
      .filter((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition').map((o) => [key(o), o]));
    assert.deepEqual([...chart.keys()].sort(), [...kustomize.keys()].sort());
    for (const [k, o] of kustomize) assert.deepEqual(chart.get(k), o, k);
  });

  it('changes only what the values name', async () => {
    const base = await template();
    const set = await template(['replicas=3', 'image.repository=registry.example/execsession', 'image.tag=1.2.3', 'helperImage.repository=registry.example/helper', 'publicServer=https://api.example:6443', 'resources.limits.memory=512Mi']);
    for (const [k, o] of base) if (k !== 'Deployment/execsession-system/execsession-operator') assert.deepEqual(set.get(k), o, k);
    type Dep = { spec: { replicas: number; template: { spec: { containers: Array<{ image: string; args: string[]; env: Array<{ name: string; value?: string }>; resources: { limits: { memory: string } } }> } } } };
    const dep = set.get('Deployment/execsession-system/execsession-operator') as unknown as Dep;
    const c = dep.spec.template.spec.containers[0]!;
    assert.equal(dep.spec.replicas, 3);
    assert.equal(c.image, 'registry.example/execsession:1.2.3');
    assert.equal(c.env.find((e) => e.name === 'EXECSESSION_HELPER_IMAGE')?.value, 'registry.example/helper:0.1.0');
    assert.ok(c.args.includes('--public-server=https://api.example:6443'), c.args.join(' '));
    assert.equal(c.resources.limits.memory, '512Mi');
    await assert.rejects(template(['certificates.mode=secret']), /certificates.secret is required/);
  });

  it('installs on the local cluster from the locally built images, runs a session, and uninstalls', async () => {
    requireCluster();
    await buildImages();
    await uninstallOperator();
    await kubectlOk(['create', 'namespace', OPERATOR_NAMESPACE]);
    await kubectlOk(['label', 'namespace', OPERATOR_NAMESPACE, 'pod-security.kubernetes.io/enforce=privileged']);
    const notes = await helm(['install', 'execsession', CHART, '-n', OPERATOR_NAMESPACE, '--set', 'image.pullPolicy=Never', '--set', 'helperImage.pullPolicy=Never', '--wait', '--timeout', '5m']);
    assert.match(notes, /rollout status deployment\/execsession-operator/);
    assert.equal(await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'execsession-operator', '-o', 'jsonpath={.status.readyReplicas}/{.spec.replicas}']), '2/2');
    await waitForApi(120_000);
    // helm test: a one-shot session as 65532 in a namespace of its own, printing id (its pod succeeds only
    // if the target container read uid 65532 from the session's output); its objects deleted after.
    const tested = await helm(['test', 'execsession', '-n', OPERATOR_NAMESPACE, '--timeout', '4m']);
    assert.match(tested, /TEST SUITE:\s+execsession-test\n[^]*?Phase:\s+Succeeded/);
    assert.doesNotMatch(tested, /Phase:\s+Failed/);
    await eventually('the test\'s namespace to be gone', async () => (await kubectl(['get', 'namespace', `${OPERATOR_NAMESPACE}-test`])).code !== 0, 120_000, 1000);
    let alice: string;
    ({ ns, alice } = await aliceNamespace('helm'));
    const r = await plugin(alice, ['-n', ns.name, 'create', 'target', '-u', 'alice', '--', 'id']);
    assert.deepEqual([r.code, r.stdout], [0, `${ALICE_ID}\n`], r.stderr);
    await kubectl(['delete', 'namespace', ns.name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
    ns = undefined;
    await helm(['uninstall', 'execsession', '-n', OPERATOR_NAMESPACE, '--wait']);
    assert.notEqual((await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'execsession-operator'])).code, 0, 'the Deployment is gone');
    assert.notEqual((await kubectl(['get', 'apiservice', 'v1alpha1.subresources.execsession.dev'])).code, 0, 'the APIService is gone');
  });
});
