/**
 * What integration and end-to-end suites share: the admin kubeconfig, identities
 * minted on demand, real kubectl, a fresh namespace per suite, and polling.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { STATE_DIR, paths } from '../cluster/config.js';
import { writeUserKubeconfig } from '../cluster/pki.js';

export const ADMIN_KUBECONFIG = paths.adminKubeconfig;
/**
 * kubectl's discovery cache, per cluster: the default one (~/.kube/cache) is keyed
 * by server address, which every local cluster shares, so it would outlive the
 * cluster and answer with resources an earlier one had.
 */
const KUBECTL_CACHE = join(STATE_DIR, 'kubectl-cache');

/** Fails fast, with the fix, when a suite runs without a cluster. */
export function requireCluster(): void {
  if (!existsSync(ADMIN_KUBECONFIG)) {
    throw new Error(`no local cluster (${ADMIN_KUBECONFIG} missing): run "npm run cluster:up" or use "npm test", which starts one`);
  }
}

/** The result of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl; never throws, so tests can assert on failures too. */
export function kubectl(args: string[], opts: { kubeconfig?: string; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', opts.kubeconfig ?? ADMIN_KUBECONFIG, '--cache-dir', KUBECTL_CACHE, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => !/version difference|skew/i.test(l)).join('\n') });
      });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(args: string[], opts: { kubeconfig?: string; input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A KubeConfig for @kubernetes/client-node, as admin unless a file is given. */
export function kubeConfig(file = ADMIN_KUBECONFIG): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

const minted = new Map<string, string>();

/** A kubeconfig for USER in GROUPS, minted once per test process. */
export async function userKubeconfig(user: string, groups: string[] = []): Promise<string> {
  const key = `${user}|${groups.join(',')}`;
  let file = minted.get(key);
  if (!file) {
    file = await writeUserKubeconfig(paths.users, user, groups, `${user}-${groups.join('_') || 'nogroups'}`);
    minted.set(key, file);
  }
  return file;
}

/** Grants `users` the verbs on a resource in a namespace, through a Role and RoleBinding named `role`. */
export async function grant(namespace: string, role: string, verbs: string[], resource: string, users: string[]): Promise<void> {
  await kubectlOk(['-n', namespace, 'create', 'role', role, `--verb=${verbs.join(',')}`, `--resource=${resource}`]);
  await kubectlOk(['-n', namespace, 'create', 'rolebinding', role, `--role=${role}`, ...users.map((u) => `--user=${u}`)]);
}

/** Creates a uniquely named namespace; returns its name and a clean-up. */
export async function tempNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(['create', 'namespace', name]);
  // Pods need the namespace's default ServiceAccount, made by the controller-manager.
  await eventually(`ServiceAccount default in ${name}`, async () => (await kubectl(['-n', name, 'get', 'sa', 'default'])).code === 0);
  return { name, remove: async () => void (await kubectl(['delete', 'namespace', name, '--wait=false'])) };
}

/** Polls until check() is truthy; fails with the last value or error. */
export async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}
