/**
 * The local cluster's fixed layout: where its state lives, which addresses and
 * ports it uses. One cluster per machine (see docs/local-cluster.md).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file so any working directory works. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Everything the harness writes for one cluster, git-ignored. */
export const STATE_DIR = process.env.EXECSESSION_CLUSTER_DIR ?? join(REPO_ROOT, '.local-cluster');

/** Built binaries and Go caches, shared by every checkout: only a fresh machine pays for the build. */
export const CACHE_DIR = process.env.EXECSESSION_CACHE_DIR ?? '/var/cache/execsession';

/** The Kubernetes version the harness builds and runs (tools/cluster/build.sh has the same default). */
export const KUBE_VERSION = (process.env.KUBE_VERSION ?? '1.37.2').replace(/^v/, '');

/** Where tools/cluster/build.sh installs etcd, containerd, runc, ctr and kubectl (first on PATH). */
export const INSTALL_BIN = process.env.EXECSESSION_INSTALL_BIN ?? '/usr/local/bin';
/** Where it installs the CNI plugins. */
export const CNI_BIN = process.env.EXECSESSION_CNI_BIN ?? '/opt/cni/bin';

export const NODE_NAME = 'execsession-node';
/** The kubelet and containerd live in this network namespace (kubelet refuses a loopback node IP). */
export const NETNS = 'execsession-node';
export const VETH_HOST = 'es-host';
export const VETH_NODE = 'es-node';
/** Host side of the veth pair: kube-apiserver binds here. Only test hosts the harness makes. */
export const HOST_IP = '10.250.0.1';
/** Node side of the veth pair: the kubelet's node IP. */
export const NODE_IP = '10.250.0.2';
export const VETH_PREFIX = 30;
export const POD_CIDR = '10.251.0.0/24';
export const SERVICE_CIDR = '10.252.0.0/24';
export const SERVICE_IP = '10.252.0.1';

export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  apiserver: 6443,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

export const APISERVER_URL = `https://${HOST_IP}:${PORTS.apiserver}`;

/** containerd at its standard paths, so the operator's defaults are the ones under test. */
export const CONTAINERD = {
  root: '/var/lib/containerd',
  state: '/run/containerd',
  socket: '/run/containerd/containerd.sock',
  namespace: 'k8s.io',
} as const;
export const KUBELET_ROOT = '/var/lib/kubelet';
export const POD_LOG_DIR = '/var/log/pods';

export const IMAGES = {
  target: 'execsession.local/target:dev',
  helper: 'execsession.local/helper:dev',
  pause: 'execsession.local/pause:dev',
} as const;

/** Paths inside STATE_DIR. */
export const paths = {
  pki: join(STATE_DIR, 'pki'),
  logs: join(STATE_DIR, 'logs'),
  pids: join(STATE_DIR, 'pids'),
  etcdData: join(STATE_DIR, 'etcd'),
  etc: join(STATE_DIR, 'etc'),
  cniConf: join(STATE_DIR, 'etc', 'cni'),
  images: join(STATE_DIR, 'images'),
  users: join(STATE_DIR, 'users'),
  adminKubeconfig: join(STATE_DIR, 'admin.kubeconfig'),
} as const;

/** The binaries this harness starts, with where each comes from. */
export interface Binaries {
  apiserver: string;
  controllerManager: string;
  scheduler: string;
  kubelet: string;
  proxy: string;
}

/** KUBE_BIN_DIR selects other prebuilt server binaries (for example a newer Kubernetes). */
export function binariesIn(dir: string): Binaries {
  const b = {
    apiserver: join(dir, 'kube-apiserver'),
    controllerManager: join(dir, 'kube-controller-manager'),
    scheduler: join(dir, 'kube-scheduler'),
    kubelet: join(dir, 'kubelet'),
    proxy: join(dir, 'kube-proxy'),
  };
  for (const path of Object.values(b)) {
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: build with "npm run setup" or point KUBE_BIN_DIR at a directory with all five server binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy)`);
    }
  }
  return b;
}
