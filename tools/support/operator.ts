/**
 * The real operator as a child process, for end-to-end suites: started with
 * `node --import tsx src/main.ts`, stopped by its pid (SIGTERM, or SIGKILL to
 * simulate a crash), its log kept for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleOperator } from '../../scripts/bundle.js';
import { hostServiceManifests } from '../cluster/apiservice.js';
import { HOST_IP, IMAGES, REPO_ROOT } from '../cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, kubectl, kubectlOk } from './cluster.js';

export const OPERATOR_NAMESPACE = 'execsession-system';

/** Installs the CRDs and the operator's namespace (idempotent). */
export async function installCrds(): Promise<void> {
  await kubectlOk(['apply', '-k', join(REPO_ROOT, 'crds')]);
  // Right after create the CRD may have no conditions yet, which kubectl wait takes for an error: ask again.
  await eventually('the ExecSession CRD to be Established', async () =>
    (await kubectl(['wait', '--for=condition=Established', 'crd/execsessions.execsession.dev', '--timeout=30s'])).code === 0, 60_000, 500);
  if ((await kubectl(['get', 'namespace', OPERATOR_NAMESPACE])).code !== 0) await kubectlOk(['create', 'namespace', OPERATOR_NAMESPACE]);
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(ADMIN_POLICY) });
}

/**
 * Suites create sessions as the cluster admin: this policy lets system:masters
 * become any user, root included, anywhere. Suites about authorization make their own.
 */
const ADMIN_POLICY = {
  apiVersion: 'execsession.dev/v1alpha1',
  kind: 'ClusterExecPolicy',
  metadata: { name: 'e2e-admin' },
  spec: {
    subjects: [{ kind: 'Group', name: 'system:masters' }],
    users: { allowedNames: ['*'], allowedUIDs: [{ min: 0, max: 2147483647 }], allowRoot: true, allowRootGroup: true },
    ttl: { default: '15m', max: '24h' },
  },
};

export const API_GROUP_VERSION = 'subresources.execsession.dev/v1alpha1';

/**
 * Points the operator's aggregated API Service at the operator on the host: a
 * Service without selector and a hand-made Endpoints (as in-cluster, the
 * operator registers the APIService itself, with its CA).
 */
async function routeApiToHost(port: number): Promise<void> {
  if (!Number.isInteger(port) || port <= 0) throw new Error('the operator did not log the aggregated API port');
  const items = hostServiceManifests('execsession-api', OPERATOR_NAMESPACE, port);
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
}

/** Grants users verbs on execsessions/SUB in subresources.execsession.dev, in a namespace (Role + RoleBinding named `role`). */
export async function grantSubresources(namespace: string, role: string, subs: string[], verbs: string[], users: string[]): Promise<void> {
  await kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: role, namespace }, rules: [{ apiGroups: ['subresources.execsession.dev'], resources: subs.map((s) => `execsessions/${s}`), verbs }] },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: role, namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: users.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
        },
      ],
    }),
  });
}

/** Waits until kube-apiserver routes the aggregated API to a live operator. */
export async function waitForApi(timeoutMs = 60_000): Promise<void> {
  await eventually('the aggregated API to be available', async () => {
    const r = await kubectl(['get', 'apiservice', 'v1alpha1.subresources.execsession.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}']);
    return r.stdout.trim() === 'True' && (await kubectl(['get', '--raw', `/apis/${API_GROUP_VERSION}`])).code === 0;
  }, timeoutMs, 250);
}

/** What a suite does with its operator, whether a host process or installed in the cluster (tools/support/installed.ts). */
export interface SuiteOperator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Killed without clean-up, as a crash. */
  crash(): Promise<void>;
  /** Running again after crash(). */
  startAgain(): Promise<void>;
  /** The last lines of its log. */
  logs(lines?: number): Promise<string>;
  /** Where its aggregated API listens, to reach it without kube-apiserver. */
  apiAddress(): Promise<{ host: string; port: number }>;
}

/** A running operator process. */
export class OperatorProcess implements SuiteOperator {
  private child: ChildProcess | undefined;
  private output = '';

  private bundle: string | undefined;

  /**
   * `bundled`: run the operator as the image does, bundled into one JavaScript file (built once, at the first start);
   * `false`: through tsx even under `npm test`.
   * `env`: added to this process's environment (e.g. a recording store's credentials, as a Secret would give them).
   */
  constructor(private readonly args: string[] = [], private readonly kubeconfig = ADMIN_KUBECONFIG, private readonly opts: { bundled?: boolean; env?: NodeJS.ProcessEnv } = {}) {}

  /**
   * What node runs: the bundle, or src/main.ts through tsx. Under `npm test` the bundle
   * test/run.ts built once for the run ($EXECSESSION_E2E_BUNDLE), unless `bundled: false`.
   */
  private async entry(): Promise<string[]> {
    const prebuilt = process.env.EXECSESSION_E2E_BUNDLE;
    if (this.opts.bundled !== false && prebuilt && existsSync(prebuilt)) return [prebuilt];
    if (!this.opts.bundled) return ['--import', 'tsx', join(REPO_ROOT, 'src/main.ts')];
    if (!this.bundle) {
      this.bundle = join(REPO_ROOT, 'dist/bundle/operator-under-test.mjs');
      await bundleOperator(this.bundle);
    }
    return [this.bundle];
  }

  /** Starts the operator and (unless told not to) waits until its controller runs. */
  async start(opts: { waitForController?: boolean } = {}): Promise<void> {
    const args = [...(await this.entry()),
      '--helper-image', IMAGES.helper, '--helper-pull-policy', 'Never', '--leader-identity', 'e2e-operator', '--lease-duration', '5s',
      // kube-apiserver reaches the host at the veth's host side; port 0 lets parallel operators coexist.
      '--webhook-listen', `${HOST_IP}:0`, '--api-listen', `${HOST_IP}:0`,
      ...this.args];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...this.opts.env, KUBECONFIG: this.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    // EXECSESSION_E2E_OPERATOR_LOGS=DIR: every process's whole log kept there (this keeps only the current one's).
    const keep = process.env.EXECSESSION_E2E_OPERATOR_LOGS;
    if (keep) mkdirSync(keep, { recursive: true });
    const collect = (b: Buffer): void => {
      this.output += b.toString();
      if (keep) appendFileSync(join(keep, `operator-${process.pid}-${child.pid}.log`), b);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await eventually('the operator to register its webhook and API', async () => {
      if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}:\n${this.log()}`);
      return this.output.includes('"aggregated API registered"');
    }, 30_000, 100);
    await routeApiToHost(this.apiPort);
    if (opts.waitForController === false) return;
    await this.waitForController();
  }

  /** Waits until the operator leads and its controller runs. */
  async waitForController(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    await eventually('the operator to start its controller', async () => {
      if (child?.exitCode !== null) throw new Error(`operator exited ${child?.exitCode}:\n${this.log()}`);
      return this.output.includes('"controller started"');
    }, timeoutMs, 100);
  }

  /** The port the aggregated API listens on, from the operator's log. */
  get apiPort(): number {
    return Number(/"port":(\d+)[^\n]*"aggregated API registered"/.exec(this.output)?.[1]);
  }

  /** The port the admission webhook listens on, from the operator's log. */
  get webhookPort(): number {
    return Number(/"port":(\d+)[^\n]*"admission webhook registered"/.exec(this.output)?.[1]);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  crash(): Promise<void> {
    return this.kill9();
  }

  /** A new process with the same flags. */
  startAgain(): Promise<void> {
    return this.start();
  }

  logs(lines = 200): Promise<string> {
    return Promise.resolve(this.log(lines));
  }

  apiAddress(): Promise<{ host: string; port: number }> {
    return Promise.resolve({ host: HOST_IP, port: this.apiPort });
  }

  /** SIGKILL, as a crash: no clean-up, no Lease release. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGSTOP: the process holds its ports but answers nothing (a hung replica). */
  pause(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGCONT');
  }

  /** SIGTERM, as a rolling update. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(sig);
    await exited;
  }

  /** The last lines of the operator's log. */
  log(lines = 40): string {
    return this.output.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
