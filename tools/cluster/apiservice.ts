/**
 * Registers an aggregated API served by a process on the host: a Service without
 * selector, a hand-made Endpoints object pointing at the host side of the veth,
 * and an APIService with the serving CA. kube-apiserver runs with
 * --enable-aggregator-routing, so it dials the endpoint directly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_IP, STATE_DIR, paths } from './config.js';
import { run } from './proc.js';

/** What to register. */
export interface ApiServiceRegistration {
  group: string;
  version: string;
  port: number;
  /** PEM file of the CA that signed the serving certificate. */
  caFile: string;
  namespace?: string;
  serviceName?: string;
}

function serviceOf(r: ApiServiceRegistration): { name: string; namespace: string } {
  return { name: r.serviceName ?? `${r.group.split('.')[0]}-api`, namespace: r.namespace ?? 'kube-system' };
}

/**
 * The name kube-apiserver's proxy verifies the serving certificate against
 * (SERVICE.NAMESPACE.svc), even with aggregator routing to an endpoint IP: the
 * certificate must carry it as a DNS name, or user requests fail with 503.
 */
export function apiServiceDnsName(r: ApiServiceRegistration): string {
  const { name, namespace } = serviceOf(r);
  return `${name}.${namespace}.svc`;
}

/** A Service without selector on port 443 and an Endpoints at HOST_IP:port: how the cluster reaches a process on the host. */
export function hostServiceManifests(name: string, namespace: string, port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'https', port: 443, targetPort: port }] } },
    {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace },
      subsets: [{ addresses: [{ ip: HOST_IP }], ports: [{ name: 'https', port }] }],
    },
  ];
}

/** The manifests for a registration, as one kubectl-appliable List. */
export function apiServiceManifests(r: ApiServiceRegistration): object {
  const { name, namespace } = serviceOf(r);
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      ...hostServiceManifests(name, namespace, r.port),
      {
        apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: `${r.version}.${r.group}` },
        spec: {
          group: r.group, version: r.version, groupPriorityMinimum: 1000, versionPriority: 100,
          service: { name, namespace, port: 443 },
          caBundle: readFileSync(r.caFile).toString('base64'),
        },
      },
    ],
  };
}

/** Applies the registration with the admin identity. */
export async function registerApiService(r: ApiServiceRegistration): Promise<void> {
  await run('kubectl', ['--kubeconfig', paths.adminKubeconfig, '--cache-dir', join(STATE_DIR, 'kubectl-cache'), 'apply', '-f', '-'], { input: JSON.stringify(apiServiceManifests(r)) });
}
