// Checks the install manifests in config/ offline: renders config/default with
// kubectl's built-in kustomize (no cluster needed) and checks the Deployment's
// security settings, that RBAC is narrow (no wildcards, no secrets, exec and
// pod creation only in the operator's namespace), and that the samples parse;
// renders the config/cert-manager overlay and checks that its Certificate, the
// operator's --cert-secret and the Role reading that Secret agree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, GROUP, KIND, PLURAL } from '../../src/api/types.js';
import { GUARDED_RESOURCES, PART_OF } from '../../src/admission/uninstall-guard.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAMESPACE = 'execsession-system';
const SERVICE_ACCOUNT = 'execsession-operator';

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  [key: string]: unknown;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface RoleManifest extends Manifest {
  rules?: Rule[];
}

interface BindingManifest extends Manifest {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}

interface Probe {
  httpGet?: { port?: number | string };
  tcpSocket?: { port?: number | string };
  grpc?: { port?: number };
}

interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }>;
  ports?: Array<{ containerPort: number; name?: string }>;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

interface PodSpec {
  serviceAccountName?: string;
  hostPID?: boolean;
  hostNetwork?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
}

interface DeploymentManifest extends Manifest {
  spec: { replicas?: number; template: { spec: PodSpec } };
}

/** Parses a multi-document YAML text, failing on any syntax error. */
function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    assert.deepEqual(doc.errors.map((e) => e.message), [], `${source} does not parse`);
    const value = doc.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

/** `kubectl kustomize` of a base under config/. */
function render(base: string): Manifest[] {
  // The CRD base reads ../../crds, outside its own root (see config/crd/kustomization.yaml).
  const r = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, 'config', base)], { encoding: 'utf8' });
  assert.equal(r.error, undefined, `kubectl could not run: ${String(r.error)}`);
  assert.equal(r.status, 0, `kubectl kustomize config/${base} failed:\n${r.stderr}`);
  return parseManifests(r.stdout, `kubectl kustomize config/${base}`);
}

const rendered = render('default');

function ofKind<T extends Manifest>(kind: string, from: Manifest[] = rendered): T[] {
  return from.filter((m) => m.kind === kind) as T[];
}

function one<T extends Manifest>(kind: string, name: string, from: Manifest[] = rendered): T {
  const found = ofKind<T>(kind, from).filter((m) => m.metadata?.name === name);
  assert.equal(found.length, 1, `expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as T;
}

const deployment = one<DeploymentManifest>('Deployment', 'execsession-operator');
const pod = deployment.spec.template.spec;
const roles = [...ofKind<RoleManifest>('ClusterRole'), ...ofKind<RoleManifest>('Role')];

/** The setting that applies to a container: its own, else the pod's. */
function effective<K extends keyof SecurityContext>(c: Container, key: K): SecurityContext[K] {
  return c.securityContext?.[key] ?? pod.securityContext?.[key];
}

/** Does the rule cover `resource` in `group`? */
function covers(rule: Rule, group: string, resource: string): boolean {
  return (rule.apiGroups ?? []).includes(group) && (rule.resources ?? []).includes(resource);
}

function describeRole(r: RoleManifest): string {
  return `${r.kind} ${r.metadata?.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata?.name}`;
}

describe('config/default', () => {
  it('renders the CRD, RBAC, namespace and Deployment, namespaced objects in execsession-system', () => {
    const kinds = new Set(rendered.map((m) => m.kind));
    for (const k of ['CustomResourceDefinition', 'Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment']) {
      assert.ok(kinds.has(k), `no ${k} rendered`);
    }
    one('CustomResourceDefinition', `${PLURAL}.${GROUP}`);
    one('Namespace', NAMESPACE);
    one('ServiceAccount', SERVICE_ACCOUNT);
    const clusterScoped = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'APIService']);
    // The one exception: reading the front-proxy CA needs a binding to a built-in Role in kube-system.
    const authReader = one('RoleBinding', 'execsession-operator-auth-reader');
    assert.equal(authReader.metadata?.namespace, 'kube-system');
    for (const m of rendered.filter((x) => !clusterScoped.has(x.kind ?? '') && x !== authReader)) {
      assert.equal(m.metadata?.namespace, NAMESPACE, `${m.kind} ${m.metadata?.name} is not in ${NAMESPACE}`);
    }
  });

  it('lets Pod Security Admission admit the privileged helper pods in execsession-system', () => {
    assert.equal(one('Namespace', NAMESPACE).metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  it('registers the aggregated API on a Service that reaches the operator\'s API port', () => {
    const api = one<Manifest & { spec: { group: string; service: { name: string; namespace: string; port: number } } }>('APIService', 'v1alpha1.subresources.execsession.dev');
    assert.equal(api.spec.group, 'subresources.execsession.dev');
    const svc = one<Manifest & { spec: { ports: { port: number; targetPort: number }[] } }>('Service', api.spec.service.name);
    assert.equal(svc.metadata?.namespace, api.spec.service.namespace);
    assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[api.spec.service.port, 8443]]);
  });

  it('builds each base on its own', () => {
    for (const base of ['crd', 'rbac', 'manager']) assert.ok(render(base).length > 0, `config/${base} renders nothing`);
  });
});

describe('the uninstall guard', () => {
  // Plural of each kind config/default holds, by API group, as the webhook rules name them.
  const PLURALS: Record<string, [string, string]> = {
    Namespace: ['', 'namespaces'], ServiceAccount: ['', 'serviceaccounts'], Service: ['', 'services'], Deployment: ['apps', 'deployments'],
    PodDisruptionBudget: ['policy', 'poddisruptionbudgets'], ClusterRole: ['rbac.authorization.k8s.io', 'clusterroles'],
    ClusterRoleBinding: ['rbac.authorization.k8s.io', 'clusterrolebindings'], Role: ['rbac.authorization.k8s.io', 'roles'],
    RoleBinding: ['rbac.authorization.k8s.io', 'rolebindings'], CustomResourceDefinition: ['apiextensions.k8s.io', 'customresourcedefinitions'],
    APIService: ['apiregistration.k8s.io', 'apiservices'],
  };

  it('sees the DELETE of every object config/default installs: each carries the label and its kind is in the rules', () => {
    for (const o of rendered) {
      const id = `${o.kind}/${o.metadata?.name}`;
      assert.equal(o.metadata?.labels?.[PART_OF.key], PART_OF.value, `${id} carries ${PART_OF.key}`);
      const plural = PLURALS[o.kind ?? ''];
      assert.ok(plural, `${id}: a kind the guard does not know; add it to GUARDED_RESOURCES and here`);
      assert.ok(GUARDED_RESOURCES.some((g) => g.apiGroups.includes(plural[0]) && g.resources.includes(plural[1])), `${id} is guarded`);
    }
  });
});

describe('the operator Deployment', () => {
  it('runs two replicas with leader election as the operator ServiceAccount', () => {
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, SERVICE_ACCOUNT);
    assert.equal(pod.containers.length, 1);
    const c = pod.containers[0] as Container;
    assert.ok(!(c.args ?? []).includes('--leader-elect=false'), 'two replicas need leader election');
    assert.ok((c.args ?? []).some((a) => a.startsWith('--namespace=')), 'no --namespace argument');
    const podName = c.env?.find((e) => e.name === 'POD_NAME');
    assert.equal(podName?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'POD_NAME must come from the pod name (the Lease identity)');
  });

  it('has the restricted security context', () => {
    assert.notEqual(pod.hostPID, true);
    assert.notEqual(pod.hostNetwork, true);
    for (const c of pod.containers) {
      assert.equal(effective(c, 'runAsNonRoot'), true, `${c.name}: runAsNonRoot`);
      assert.notEqual(effective(c, 'runAsUser'), 0, `${c.name}: runAsUser 0`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: readOnlyRootFilesystem`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation`);
      assert.notEqual(c.securityContext?.privileged, true, `${c.name}: privileged`);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: capabilities.drop`);
      assert.equal(c.securityContext?.capabilities?.add, undefined, `${c.name}: capabilities.add`);
      assert.equal(effective(c, 'seccompProfile')?.type, 'RuntimeDefault', `${c.name}: seccompProfile`);
    }
  });

  it('sets resource requests and limits', () => {
    for (const c of pod.containers) {
      for (const r of ['cpu', 'memory']) assert.ok(c.resources?.requests?.[r], `${c.name}: no ${r} request`);
      assert.ok(c.resources?.limits?.memory, `${c.name}: no memory limit`);
    }
  });

  it('probes no port the container does not declare', () => {
    for (const c of pod.containers) {
      const declared = new Set<number | string>((c.ports ?? []).flatMap((p) => [p.containerPort, ...(p.name ? [p.name] : [])]));
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
        if (port !== undefined) assert.ok(declared.has(port), `${c.name} probes port ${port}, which it does not declare`);
      }
    }
  });
});

describe('RBAC', () => {
  it('grants no wildcard verbs, resources or API groups', () => {
    assert.ok(roles.length >= 2);
    for (const r of roles) {
      for (const rule of r.rules ?? []) {
        for (const field of ['verbs', 'resources', 'apiGroups'] as const) {
          assert.ok(!(rule[field] ?? []).includes('*'), `${describeRole(r)} has * in ${field}: ${JSON.stringify(rule)}`);
        }
        assert.equal(rule.nonResourceURLs, undefined, `${describeRole(r)} grants non-resource URLs`);
      }
    }
  });

  it('grants secrets only in execsession-system, reading and updating only the operator\'s own', () => {
    for (const r of roles) {
      for (const rule of r.rules ?? []) {
        if (!(rule.resources ?? []).some((x) => x === 'secrets' || x.startsWith('secrets/'))) continue;
        assert.equal(r.kind, 'Role', `${describeRole(r)} grants secrets cluster-wide`);
        const reads = (rule.verbs ?? []).filter((v) => v !== 'create');
        if (reads.length > 0) assert.deepEqual(rule.resourceNames, ['execsession-operator'], `${describeRole(r)}: ${JSON.stringify(rule)}`);
        assert.ok(!(rule.verbs ?? []).some((v) => ['list', 'watch'].includes(v)), 'no listing of secrets');
      }
    }
  });

  it('grants pods/exec, pod creation and Leases only in execsession-system (a Role, not a ClusterRole)', () => {
    const namespacedOnly: Array<[string, string, string]> = [['', 'pods/exec', 'create'], ['', 'pods', 'create'], ['', 'pods', 'delete'], ['coordination.k8s.io', 'leases', 'create']];
    for (const [group, resource, verb] of namespacedOnly) {
      const granting = roles.filter((r) => (r.rules ?? []).some((rule) => covers(rule, group, resource) && (rule.verbs ?? []).includes(verb)));
      assert.deepEqual(granting.map(describeRole), [`Role ${NAMESPACE}/execsession-operator`], `${verb} ${resource}`);
    }
    const exec = one<RoleManifest>('Role', 'execsession-operator').rules?.find((rule) => covers(rule, '', 'pods/exec'));
    // WebSocket exec is authorized as get before Kubernetes 1.30 and as create since.
    assert.deepEqual([...(exec?.verbs ?? [])].sort(), ['create', 'get']);
  });

  it('grants the operator what its code calls', () => {
    const cluster = one<RoleManifest>('ClusterRole', 'execsession-operator');
    const need = (r: RoleManifest, group: string, resource: string, verbs: string[]): void => {
      const granted = new Set((r.rules ?? []).filter((rule) => covers(rule, group, resource)).flatMap((rule) => rule.verbs ?? []));
      for (const v of verbs) assert.ok(granted.has(v), `${describeRole(r)} lacks ${v} on ${group || 'core'}/${resource}`);
    };
    need(cluster, GROUP, PLURAL, ['get', 'list', 'watch', 'patch', 'delete']);
    need(cluster, GROUP, `${PLURAL}/status`, ['patch']);
    need(cluster, '', 'pods', ['get']);
    need(cluster, '', 'nodes', ['get']);
    need(cluster, '', 'events', ['create']);
    const role = one<RoleManifest>('Role', 'execsession-operator');
    need(role, '', 'pods', ['create', 'delete', 'get', 'list', 'watch']);
    need(role, 'coordination.k8s.io', 'leases', ['get', 'create', 'update']);
  });

  it('binds both roles to the operator ServiceAccount', () => {
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const b = one<BindingManifest>(kind, 'execsession-operator');
      assert.equal(b.roleRef.kind, kind.replace('Binding', ''));
      assert.equal(b.roleRef.name, 'execsession-operator');
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
    }
  });
});

describe('config/samples', () => {
  const dir = join(REPO_ROOT, 'config', 'samples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const samples = files.flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8'), `config/samples/${f}`).map((m) => ({ file: f, m })));
  const crd = rendered.find((m) => m.kind === 'CustomResourceDefinition' && m.metadata?.name === 'execsessions.execsession.dev') as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { required: string[]; properties: Record<string, unknown> } } } } }> } };
  const specSchema = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec;

  it('has the two ExecSessions, the policies, the approvers\' role and the target pod, all parsing', () => {
    assert.deepEqual(files, ['clusterexecpolicy-admins.yaml', 'clusterexecpolicy-developers.yaml', 'clusterrole-approvers.yaml', 'execpolicy-approval.yaml', 'execsession-command.yaml', 'execsession.yaml', 'target-pod.yaml']);
    for (const { file, m } of samples) assert.ok(m.apiVersion && m.kind && m.metadata?.name, `${file}: a manifest without apiVersion, kind or name`);
  });

  it('writes every ExecSession as execsession.dev/v1alpha1 with only fields the CRD knows', () => {
    const sessions = samples.filter(({ m }) => m.kind === KIND);
    assert.equal(sessions.length, 2);
    for (const { file, m } of sessions) {
      assert.equal(m.apiVersion, API_VERSION, file);
      const spec = m.spec as Record<string, unknown>;
      for (const field of specSchema?.required ?? []) assert.ok(spec[field] !== undefined, `${file}: spec.${field} is required`);
      for (const field of Object.keys(spec)) assert.ok(field in (specSchema?.properties ?? {}), `${file}: spec.${field} is not in the CRD`);
    }
  });

  it('lets group approvers approve and deny, and nothing else of the aggregated API', () => {
    const role = samples.find(({ m }) => m.kind === 'ClusterRole' && m.metadata?.name === 'execsession-approver')?.m as RoleManifest | undefined;
    const sub = (role?.rules ?? []).filter((r) => (r.apiGroups ?? []).includes('subresources.execsession.dev'));
    assert.deepEqual(sub, [{ apiGroups: ['subresources.execsession.dev'], resources: ['execsessions/approve', 'execsessions/deny'], verbs: ['create'] }]);
    const binding = samples.find(({ m }) => m.kind === 'ClusterRoleBinding' && m.metadata?.name === 'execsession-approvers')?.m as BindingManifest | undefined;
    assert.deepEqual(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'execsession-approver' });
    assert.deepEqual(binding?.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'approvers' }]);
  });

  it('makes the command sample non-interactive', () => {
    const command = samples.find(({ file }) => file === 'execsession-command.yaml')?.m.spec as { tty?: boolean; command?: string[] };
    assert.equal(command.tty, false);
    assert.deepEqual(command.command, ['id']);
  });
});

interface IssuerManifest extends Manifest {
  spec: { selfSigned?: object; ca?: { secretName: string } };
}

interface CertificateManifest extends Manifest {
  spec: { secretName: string; isCA?: boolean; dnsNames?: string[]; usages?: string[]; issuerRef: { kind?: string; name: string } };
}

describe('config/cert-manager', () => {
  const overlay = render('cert-manager');
  const key = (m: Manifest): string => `${m.kind} ${m.metadata?.namespace ?? ''}/${m.metadata?.name}`;
  const serving = one<CertificateManifest>('Certificate', 'execsession-serving', overlay);
  const operator = one<DeploymentManifest>('Deployment', 'execsession-operator', overlay).spec.template.spec.containers[0] as Container;
  const certSecretArgs = (operator.args ?? []).filter((a) => a.startsWith('--cert-secret'));

  it('is config/default plus the issuers, the serving Certificate and the Role reading its Secret, all in execsession-system', () => {
    const added = overlay.filter((m) => !rendered.some((d) => key(d) === key(m)));
    assert.deepEqual(added.map(key).sort(), [
      'Certificate execsession-system/execsession-ca', 'Certificate execsession-system/execsession-serving',
      'Issuer execsession-system/execsession-ca', 'Issuer execsession-system/execsession-selfsigned',
      'Role execsession-system/execsession-operator-certs', 'RoleBinding execsession-system/execsession-operator-certs',
    ]);
    assert.deepEqual(rendered.filter((d) => !overlay.some((m) => key(d) === key(m))).map(key), [], 'nothing of config/default is dropped');
  });

  it('names both Services in the serving Certificate, short and in full', () => {
    const api = one<Manifest & { spec: { service: { name: string; namespace: string } } }>('APIService', 'v1alpha1.subresources.execsession.dev', overlay).spec.service;
    // The operator's default --webhook-service is NAMESPACE/execsession-webhook.
    for (const svc of [`execsession-webhook.${NAMESPACE}`, `${api.name}.${api.namespace}`]) {
      one('Service', svc.split('.')[0] ?? '', overlay);
      for (const name of [`${svc}.svc`, `${svc}.svc.cluster.local`]) assert.ok(serving.spec.dnsNames?.includes(name), `the Certificate does not name ${name}`);
    }
    assert.ok(serving.spec.usages?.includes('server auth'));
  });

  it('issues it from a CA of its own: self-signed Issuer, CA Certificate, CA Issuer', () => {
    const caIssuer = one<IssuerManifest>(serving.spec.issuerRef.kind ?? 'Issuer', serving.spec.issuerRef.name, overlay);
    const ca = ofKind<CertificateManifest>('Certificate', overlay).find((c) => c.spec.secretName === caIssuer.spec.ca?.secretName);
    assert.equal(ca?.spec.isCA, true, `no CA Certificate writes ${caIssuer.spec.ca?.secretName}`);
    assert.ok(one<IssuerManifest>('Issuer', ca?.spec.issuerRef.name ?? '', overlay).spec.selfSigned, 'the CA is not self-signed');
  });

  it('points the operator at the Secret the Certificate writes', () => {
    assert.deepEqual(certSecretArgs, [`--cert-secret=${serving.spec.secretName}`]);
    assert.ok((operator.args ?? []).some((a) => a.startsWith('--namespace=')), 'the patch kept the other arguments');
  });

  it('lets the operator get that Secret, by name, and nothing more', () => {
    const role = one<RoleManifest>('Role', 'execsession-operator-certs', overlay);
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: [serving.spec.secretName], verbs: ['get'] }]);
    const binding = one<BindingManifest>('RoleBinding', 'execsession-operator-certs', overlay);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata?.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
  });
});

describe('config/local', () => {
  const local = render('local');
  const operator = one<DeploymentManifest>('Deployment', 'execsession-operator', local).spec.template.spec.containers[0] as Container & { imagePullPolicy?: string };
  const env = (name: string): string | undefined => operator.env?.find((e) => e.name === name)?.value;

  it('runs the images npm run images imports, never pulled: the operator and its helpers', () => {
    assert.equal(operator.image, 'execsession:0.1.0');
    assert.equal(operator.imagePullPolicy, 'Never');
    assert.equal(env('EXECSESSION_HELPER_IMAGE'), 'execsession-helper:0.1.0');
    assert.equal(env('EXECSESSION_HELPER_PULL_POLICY'), 'Never');
  });

  it('changes nothing else of config/default', () => {
    const key = (m: Manifest): string => `${m.kind}/${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;
    assert.deepEqual(local.map(key).sort(), rendered.map(key).sort());
    for (const m of local.filter((x) => x.kind !== 'Deployment')) assert.deepEqual(m, rendered.find((d) => key(d) === key(m)), key(m));
  });
});

describe('charts/execsession/crds', () => {
  it('holds the CRDs of crds/, byte for byte (helm installs its copies)', () => {
    const files = readdirSync(join(REPO_ROOT, 'crds')).filter((f) => f.startsWith('execsession.dev_')).sort();
    assert.deepEqual(readdirSync(join(REPO_ROOT, 'charts/execsession/crds')).sort(), files);
    for (const f of files) {
      assert.equal(readFileSync(join(REPO_ROOT, 'charts/execsession/crds', f), 'utf8'), readFileSync(join(REPO_ROOT, 'crds', f), 'utf8'), f);
    }
  });
});
