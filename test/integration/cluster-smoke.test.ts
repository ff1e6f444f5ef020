/**
 * The local cluster is real and complete: a Ready node, pods from the harness's
 * images, kubectl exec through kubelet and containerd, and custom resources
 * (created, watched, status-patched: the reflect2 crash shows only there).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { NODE_NAME } from '../../tools/cluster/config.js';
import { eventually, kubeConfig, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { runTargetPod } from '../../tools/support/pods.js';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'smokes.smoke.execsession.dev' },
  spec: {
    group: 'smoke.execsession.dev',
    scope: 'Namespaced',
    names: { plural: 'smokes', singular: 'smoke', kind: 'Smoke' },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: { type: 'object', properties: { value: { type: 'string' } } },
            status: { type: 'object', properties: { seen: { type: 'string' } } },
          },
        },
      },
    }],
  },
};

describe('local cluster smoke', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;

  before(async () => {
    requireCluster();
    ns = await tempNamespace('smoke');
  });
  after(async () => ns?.remove());

  it('has one Ready node', async () => {
    const nodes = JSON.parse(await kubectlOk(['get', 'nodes', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }> };
    assert.equal(nodes.items.length, 1);
    assert.equal(nodes.items[0]?.metadata.name, NODE_NAME);
    assert.equal(nodes.items[0]?.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('runs a pod from the target image and kubectl exec shows the expected user', async () => {
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    const id = await kubectlOk(['-n', ns.name, 'exec', 'target', '--', 'id']);
    assert.match(id, /^uid=1001\(bob\) gid=1001\(bob\)/);
    const passwd = await kubectlOk(['-n', ns.name, 'exec', 'target', '--', 'cat', '/etc/group']);
    assert.match(passwd, /^ops:x:2000:alice,bob$/m);
  });

  it('forwards stdin and exit codes through kubectl exec', async () => {
    const echoed = await kubectlOk(['-n', ns.name, 'exec', '-i', 'target', '--', 'cat'], { input: 'hello through the kubelet\n' });
    assert.equal(echoed, 'hello through the kubelet\n');
    const failed = await kubectl(['-n', ns.name, 'exec', 'target', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3);
  });

  it('enforces RBAC for identities minted by the harness', async () => {
    const mallory = await userKubeconfig('mallory');
    const denied = await kubectl(['-n', ns.name, 'get', 'pods'], { kubeconfig: mallory });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden.*"mallory"/i);
    // Impersonation through the admin identity reaches the same authorizer.
    const canI = await kubectl(['auth', 'can-i', 'create', 'pods/exec', '-n', ns.name, '--as', 'alice', '--as-group', 'developers']);
    assert.equal(canI.stdout.trim(), 'no');
    assert.equal((await kubectl(['auth', 'can-i', 'create', 'pods/exec', '-n', ns.name])).stdout.trim(), 'yes');
  });

  it('installs a CRD and creates, watches and status-patches a custom resource', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(CRD) });
    await kubectlOk(['wait', '--for=condition=Established', `crd/${CRD.metadata.name}`, '--timeout=30s']);
    const kc = kubeConfig();
    const api = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: 'smoke.execsession.dev', version: 'v1', namespace: ns.name, plural: 'smokes' };
    // Creating a custom resource is where a kube-apiserver built with the old reflect2 crashes.
    await eventually('the new CRD to serve', async () => {
      await api.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'smoke.execsession.dev/v1', kind: 'Smoke', metadata: { name: 'one' }, spec: { value: 'x' } } });
      return true;
    }, 20_000);

    const seen: string[] = [];
    const watch = await new Watch(kc).watch(`/apis/smoke.execsession.dev/v1/namespaces/${ns.name}/smokes`, {},
      (type: string, obj: { status?: { seen?: string } }) => seen.push(`${type}:${obj.status?.seen ?? ''}`), () => undefined);
    try {
      await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'one', body: { status: { seen: 'patched' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually('the watch to deliver the status patch', async () => seen.includes('MODIFIED:patched'), 10_000);
    } finally {
      watch.abort();
    }
    const obj = await api.getNamespacedCustomObject({ ...ref, name: 'one' }) as { status?: { seen?: string } };
    assert.equal(obj.status?.seen, 'patched');
    await kubectlOk(['delete', 'crd', CRD.metadata.name, '--wait=false']);
  });
});
