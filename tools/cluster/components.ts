/**
 * How each daemon of the local cluster is configured and started. Every flag that
 * is not a default is here for a reason recorded in docs/local-cluster.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CNI_BIN, CONTAINERD, HOST_IP, IMAGES, INSTALL_BIN, KUBELET_ROOT, NODE_IP, NODE_NAME, POD_CIDR, PORTS, SERVICE_CIDR, paths, type Binaries,
} from './config.js';
import type { ClusterPki } from './pki.js';
import { kubeconfigYaml, issue } from './pki.js';

/** What the harness needs to start one daemon. */
export interface Component {
  name: string;
  exe: string;
  args: string[];
  netns?: boolean;
}

export function etcd(): Component {
  const client = `http://127.0.0.1:${PORTS.etcdClient}`;
  const peer = `http://127.0.0.1:${PORTS.etcdPeer}`;
  return {
    name: 'etcd',
    exe: join(INSTALL_BIN, 'etcd'),
    args: ['--name=default', `--data-dir=${paths.etcdData}`, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=default=${peer}`, '--log-level=warn'],
  };
}

/**
 * kube-apiserver's admission configuration: the kubeconfig it uses to call webhooks
 * presents the front-proxy client certificate to every webhook ("*"), which is what
 * the operator's webhook accepts (docs/adr, config/README.md).
 */
function admissionConfig(p: ClusterPki): string {
  mkdirSync(paths.etc, { recursive: true });
  const kubeconfig = join(paths.etc, 'webhook-client.kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'users:', '- name: "*"', '  user:',
    `    client-certificate: ${p.frontProxyClient.cert}`, `    client-key: ${p.frontProxyClient.key}`, '',
  ].join('\n'), { mode: 0o600 });
  const file = join(paths.etc, 'admission.yaml');
  const plugin = (name: string): string[] => [
    `- name: ${name}`, '  configuration:', '    apiVersion: apiserver.config.k8s.io/v1', '    kind: WebhookAdmissionConfiguration',
    `    kubeConfigFile: ${kubeconfig}`,
  ];
  writeFileSync(file, [
    'apiVersion: apiserver.config.k8s.io/v1', 'kind: AdmissionConfiguration', 'plugins:',
    ...plugin('MutatingAdmissionWebhook'), ...plugin('ValidatingAdmissionWebhook'), '',
  ].join('\n'));
  return file;
}

/** Where kube-apiserver writes its audit log (docs/audit.md; test/e2e/audit.test.ts reads it). */
export const AUDIT_LOG = join(paths.logs, 'audit.log');

/**
 * kube-apiserver's audit policy: ExecSessions, their status and the aggregated
 * API's subresources at Metadata (who, what, the webhook's audit annotations,
 * the response status; no bodies, which would copy specs and approvals into the
 * log), everything else not at all.
 */
function auditPolicy(): string {
  mkdirSync(paths.etc, { recursive: true });
  mkdirSync(paths.logs, { recursive: true });
  const file = join(paths.etc, 'audit-policy.yaml');
  writeFileSync(file, [
    'apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: [RequestReceived]', 'rules:',
    '  - level: Metadata', '    resources:',
    '      - group: execsession.dev', '        resources: [execsessions, execsessions/status]',
    '      - group: subresources.execsession.dev',
    '  - level: None', '',
  ].join('\n'));
  return file;
}

export function apiserver(bin: Binaries, p: ClusterPki): Component {
  return {
    name: 'kube-apiserver',
    exe: bin.apiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`,
      `--bind-address=${HOST_IP}`, `--advertise-address=${HOST_IP}`, `--secure-port=${PORTS.apiserver}`,
      `--tls-cert-file=${p.apiserver.cert}`, `--tls-private-key-file=${p.apiserver.key}`,
      `--client-ca-file=${p.ca.cert}`,
      '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      // Without it every privileged pod (the session helper) is "disallowed by cluster policy".
      '--allow-privileged=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${p.saPub}`, `--service-account-signing-key-file=${p.saKey}`,
      // The API server authenticates to the kubelet and verifies its serving certificate.
      `--kubelet-client-certificate=${p.apiserverKubeletClient.cert}`, `--kubelet-client-key=${p.apiserverKubeletClient.key}`,
      `--kubelet-certificate-authority=${p.ca.cert}`, '--kubelet-preferred-address-types=InternalIP',
      // Aggregated APIs served by a process on the host (front-proxy identity headers).
      `--requestheader-client-ca-file=${p.frontProxyCa.cert}`, '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      // Since 1.33 the aggregator forwards the caller's UID; SubjectAccessReviews need it.
      '--requestheader-uid-headers=X-Remote-Uid',
      // kube-apiserver presents the front-proxy client certificate to admission webhooks,
      // so the operator's webhook can refuse every caller but kube-apiserver.
      `--admission-control-config-file=${admissionConfig(p)}`,
      `--proxy-client-cert-file=${p.frontProxyClient.cert}`, `--proxy-client-key-file=${p.frontProxyClient.key}`,
      '--enable-aggregator-routing=true',
      '--profiling=false',
      // An audit log, so that the webhook's audit annotations can be found (docs/audit.md).
      `--audit-policy-file=${auditPolicy()}`, `--audit-log-path=${AUDIT_LOG}`, '--audit-log-format=json',
      '--audit-log-maxsize=50', '--audit-log-maxbackup=2',
    ],
  };
}

/** Writes a kubeconfig for a control-plane identity and returns its path. */
async function componentKubeconfig(p: ClusterPki, name: string, cn: string, groups: string[] = []): Promise<string> {
  const pair = await issue(p.ca, join(paths.pki, 'components'), name, { cn, groups, days: 3650 });
  const file = join(paths.etc, `${name}.kubeconfig`);
  mkdirSync(paths.etc, { recursive: true });
  writeFileSync(file, kubeconfigYaml(cn, p.ca.cert, pair), { mode: 0o600 });
  return file;
}

/** How controller-manager and scheduler reach kube-apiserver, and where they serve (loopback only, no insecure port). */
function controlPlaneClientArgs(kubeconfig: string, securePort: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${securePort}`,
  ];
}

export async function controllerManager(bin: Binaries, p: ClusterPki): Promise<Component> {
  const kc = await componentKubeconfig(p, 'kube-controller-manager', 'system:kube-controller-manager');
  return {
    name: 'kube-controller-manager',
    exe: bin.controllerManager,
    args: [
      ...controlPlaneClientArgs(kc, PORTS.controllerManager),
      `--service-account-private-key-file=${p.saKey}`, `--root-ca-file=${p.ca.cert}`, '--use-service-account-credentials=true',
      `--cluster-signing-cert-file=${p.ca.cert}`, `--cluster-signing-key-file=${p.ca.key}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`, '--leader-elect=false', '--profiling=false',
    ],
  };
}

export async function scheduler(bin: Binaries, p: ClusterPki): Promise<Component> {
  const kc = await componentKubeconfig(p, 'kube-scheduler', 'system:kube-scheduler');
  return {
    name: 'kube-scheduler',
    exe: bin.scheduler,
    args: [...controlPlaneClientArgs(kc, PORTS.scheduler), '--leader-elect=false', '--profiling=false'],
  };
}

/** containerd, in the node's network namespace so pod networking never touches the host's. */
export function containerd(): Component {
  mkdirSync(paths.cniConf, { recursive: true });
  writeFileSync(join(paths.cniConf, '10-execsession.conflist'), JSON.stringify({
    cniVersion: '0.4.0',
    name: 'execsession',
    plugins: [{
      type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
    }],
  }, null, 2));
  // containerd 2.x configuration format (version 3: the CRI plugin is split in images and runtime).
  const images = "plugins.'io.containerd.cri.v1.images'";
  const runtime = "plugins.'io.containerd.cri.v1.runtime'";
  const config = `version = 3
root = "${CONTAINERD.root}"
state = "${CONTAINERD.state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs"]
[grpc]
  address = "${CONTAINERD.socket}"
[${images}]
  snapshotter = "overlayfs"
[${images}.pinned_images]
  sandbox = "${IMAGES.pause}"
[${runtime}]
  # Negative oom_score_adj is forbidden here even for root; without this every sandbox fails.
  restrict_oom_score_adj = true
[${runtime}.containerd]
  default_runtime_name = "runc"
[${runtime}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${runtime}.containerd.runtimes.runc.options]
  SystemdCgroup = false
[${runtime}.cni]
  bin_dirs = ["${CNI_BIN}"]
  conf_dir = "${paths.cniConf}"
[plugins.'io.containerd.grpc.v1.cri']
  # The kubelet proxies exec streams from its own network namespace, which is this one.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
  const file = join(paths.etc, 'containerd.toml');
  writeFileSync(file, config);
  return { name: 'containerd', exe: join(INSTALL_BIN, 'containerd'), args: [`--config=${file}`], netns: true };
}

export async function kubelet(bin: Binaries, p: ClusterPki): Promise<Component> {
  const kc = await componentKubeconfig(p, 'kubelet', `system:node:${NODE_NAME}`, ['system:nodes']);
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port: 10250,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    // No anonymous access: the API server's client certificate is checked, and every request authorized.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: p.ca.cert } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: p.kubeletServing.cert,
    tlsPrivateKeyFile: p.kubeletServing.key,
    // cgroup v1 with cgroupfs; QoS cgroups and node allocatable need a systemd-like hierarchy we do not have.
    cgroupDriver: 'cgroupfs',
    // These machines have hybrid cgroups (v1 controllers); since 1.35 the kubelet refuses v1 unless told.
    failCgroupV1: false,
    containerRuntimeEndpoint: `unix://${CONTAINERD.socket}`,
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    clusterDomain: 'cluster.local',
    // Small disks must not evict the test pods.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
  };
  const file = join(paths.etc, 'kubelet.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return {
    name: 'kubelet',
    exe: bin.kubelet,
    args: [
      `--config=${file}`, `--kubeconfig=${kc}`, `--root-dir=${KUBELET_ROOT}`,
      `--node-ip=${NODE_IP}`, `--hostname-override=${NODE_NAME}`, '--v=1',
    ],
    netns: true,
  };
}

/** kube-proxy (iptables mode) in the node's network namespace: pods reach ClusterIP Services. */
export async function kubeProxy(bin: Binaries, p: ClusterPki): Promise<Component> {
  const kc = await componentKubeconfig(p, 'kube-proxy', 'system:kube-proxy');
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kc },
    mode: 'iptables',
    clusterCIDR: POD_CIDR,
    hostnameOverride: NODE_NAME,
    bindAddress: NODE_IP,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // The conntrack table is the host's: leave its size alone.
    conntrack: { maxPerCore: 0, min: 0 },
  };
  const file = join(paths.etc, 'kube-proxy.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { name: 'kube-proxy', exe: bin.proxy, args: [`--config=${file}`, '--v=1'], netns: true };
}
