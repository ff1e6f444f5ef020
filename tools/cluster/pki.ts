/**
 * The cluster's certificates, made with the openssl CLI: a cluster CA (serving
 * certificates and client identities), a front-proxy CA (aggregated APIs) and the
 * service-account key pair. Client identities are minted on demand, so tests can
 * act as any user and groups without restarting anything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APISERVER_URL, HOST_IP, NODE_IP, NODE_NAME, SERVICE_IP, paths } from './config.js';
import { run } from './proc.js';

/** A certificate and key on disk. */
export interface CertPair {
  cert: string;
  key: string;
}

const pki = (name: string): string => join(paths.pki, name);

async function newKey(file: string, rsa = false): Promise<void> {
  const args = rsa
    ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file]
    : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file];
  await run('openssl', args);
}

/** Creates a self-signed CA into DIR/NAME.{crt,key}, replacing one already there. */
export async function issueCa(dir: string, name: string, cn: string): Promise<CertPair> {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await newKey(pair.key);
  await run('openssl', ['req', '-x509', '-new', '-key', pair.key, '-subj', `/CN=${subjPart(cn)}`, '-days', '3650', '-out', pair.cert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  return pair;
}

async function newCa(name: string, cn: string): Promise<CertPair> {
  const pair = { cert: pki(`${name}.crt`), key: pki(`${name}.key`) };
  if (existsSync(pair.cert)) return pair;
  return issueCa(paths.pki, name, cn);
}

/** Escapes a value for an openssl -subj string. */
function subjPart(v: string): string {
  if (!/^[A-Za-z0-9:._@-]+$/.test(v)) throw new Error(`"${v}" is not a valid user or group name here (letters, digits, : . _ @ -)`);
  return v;
}

/** Options of a leaf certificate. */
export interface LeafOptions {
  cn: string;
  groups?: string[];
  server?: { ips: string[]; dns: string[] };
  client?: boolean;
  days?: number;
}

/** Issues a leaf certificate signed by `ca` into DIR/NAME.{crt,key}. */
export async function issue(ca: CertPair, dir: string, name: string, opts: LeafOptions): Promise<CertPair> {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const usages = [opts.client !== false ? 'clientAuth' : '', opts.server ? 'serverAuth' : ''].filter(Boolean).join(',');
  const lines = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${usages}`];
  if (opts.server) {
    const alt = [...opts.server.ips.map((ip) => `IP:${ip}`), ...opts.server.dns.map((d) => `DNS:${d}`)];
    lines.push(`subjectAltName=${alt.join(',')}`);
  }
  writeFileSync(ext, `${lines.join('\n')}\n`);
  const subj = `/CN=${subjPart(opts.cn)}${(opts.groups ?? []).map((g) => `/O=${subjPart(g)}`).join('')}`;
  await newKey(pair.key);
  await run('openssl', ['req', '-new', '-key', pair.key, '-subj', subj, '-out', csr]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
    '-days', String(opts.days ?? 365), '-extfile', ext, '-out', pair.cert]);
  rmSync(csr);
  rmSync(ext);
  return pair;
}

/** Every certificate and key the control plane and node use. */
export interface ClusterPki {
  ca: CertPair;
  frontProxyCa: CertPair;
  saKey: string;
  saPub: string;
  apiserver: CertPair;
  apiserverKubeletClient: CertPair;
  frontProxyClient: CertPair;
  kubeletServing: CertPair;
}

/** Creates the cluster PKI once; later calls reuse it. */
export async function ensurePki(): Promise<ClusterPki> {
  mkdirSync(paths.pki, { recursive: true });
  const ca = await newCa('ca', 'execsession-local-ca');
  const frontProxyCa = await newCa('front-proxy-ca', 'execsession-local-front-proxy-ca');
  const saKey = pki('sa.key');
  const saPub = pki('sa.pub');
  if (!existsSync(saPub)) {
    await newKey(saKey, true);
    await run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub]);
  }
  const leaf = async (ca_: CertPair, name: string, opts: LeafOptions): Promise<CertPair> =>
    existsSync(pki(`${name}.crt`)) ? { cert: pki(`${name}.crt`), key: pki(`${name}.key`) } : issue(ca_, paths.pki, name, opts);
  // Every address and name a client may use, so verifying clients work from the host and from pods.
  const apiserverNames = {
    ips: [HOST_IP, '127.0.0.1', SERVICE_IP],
    dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
  };
  return {
    ca,
    frontProxyCa,
    saKey,
    saPub,
    apiserver: await leaf(ca, 'apiserver', { cn: 'kube-apiserver', server: apiserverNames, client: false, days: 3650 }),
    apiserverKubeletClient: await leaf(ca, 'apiserver-kubelet-client', { cn: 'kube-apiserver-kubelet-client', groups: ['system:masters'], days: 3650 }),
    frontProxyClient: await leaf(frontProxyCa, 'front-proxy-client', { cn: 'front-proxy-client', days: 3650 }),
    kubeletServing: await leaf(ca, 'kubelet-serving', { cn: NODE_NAME, server: { ips: [NODE_IP], dns: [NODE_NAME] }, client: false, days: 3650 }),
  };
}

/** A kubeconfig with embedded credentials for one identity. */
export function kubeconfigYaml(user: string, ca: string, pair: CertPair, server = APISERVER_URL): string {
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: execsession-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(ca)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(pair.cert)}`,
    `    client-key-data: ${b64(pair.key)}`,
    'contexts:',
    `- name: ${user}@execsession-local`,
    '  context:',
    '    cluster: execsession-local',
    `    user: ${user}`,
    '    namespace: default',
    `current-context: ${user}@execsession-local`,
    '',
  ].join('\n');
}

/**
 * Mints a client certificate for USER in GROUPS and writes a kubeconfig for it.
 * Returns the kubeconfig's path.
 */
export async function writeUserKubeconfig(dir: string, user: string, groups: string[], fileName = user): Promise<string> {
  const ca = { cert: pki('ca.crt'), key: pki('ca.key') };
  if (!existsSync(ca.cert)) throw new Error('the cluster has no PKI yet: run "npm run cluster:up" first');
  const pair = await issue(ca, join(paths.pki, 'clients'), fileName.replace(/[^A-Za-z0-9._-]/g, '_'), { cn: user, groups });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}.kubeconfig`);
  writeFileSync(file, kubeconfigYaml(user, ca.cert, pair), { mode: 0o600 });
  return file;
}
