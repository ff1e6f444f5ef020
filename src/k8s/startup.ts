/**
 * What the operator cannot start without, checked before anything starts and
 * said with the fix instead of a stack trace (issue 17): its namespace, the CRDs,
 * and the RBAC of its identity. `preflight` asks for each in turn; whatever an
 * API call refuses later in start-up goes through `startupProblem` too (main.ts),
 * which reads the API server's own Status (403: whom, which verb, which resource;
 * 404: which namespace).
 */
import { apiMessage, apiStatus, classifyApiError } from './api-errors.js';
import type { Kube } from './kube.js';

/** A start-up failure whose message says what is missing and how to fix it. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** What a failed start-up call was about, where its error does not say. */
export interface StartupContext {
  /** The operator's namespace (--namespace). */
  namespace: string;
  /** The CRD the call lists, when a 404 means that CRD is missing. */
  crd?: string;
}

const RBAC_FIX = 'Apply the operator\'s RBAC: kubectl apply -k config/rbac (it binds ClusterRole and Role execsession-operator to ServiceAccount execsession-system/execsession-operator; ' +
  'for another identity, bind both to it) or install with the Helm chart; config/README.md#what-the-operator-may-do lists every rule';

// kube-apiserver's RBAC refusal: `... is forbidden: User "U" cannot VERB resource "R" in API group "G" in the namespace "N"` (or `at the cluster scope`).
const FORBIDDEN = /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?/;
// A create in a namespace that does not exist: `namespaces "N" not found`.
const NO_NAMESPACE = /namespaces "([^"]+)" not found/;

/** The message of a missing namespace, with the commands that make it. */
export function missingNamespace(namespace: string): string {
  return `namespace "${namespace}" does not exist; the operator keeps its helper pods, its Secret and its leader Lease there. ` +
    `Create it: kubectl create namespace ${namespace} && kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged ` +
    '(helper pods are privileged); or start the operator with --namespace naming the namespace it is installed in';
}

/** The message of a missing CRD. */
export function missingCrd(crd: string): string {
  return `the CustomResourceDefinition ${crd} is not installed (the API server has no such resource). ` +
    'Install the CRDs: kubectl apply -k crds (the Helm chart installs them from charts/execsession/crds), then start the operator again';
}

/** The message of an RBAC refusal, naming the identity and the rule it lacks. */
function forbidden(message: string): string {
  const m = FORBIDDEN.exec(message);
  if (!m) return `the API server refused the operator (403 Forbidden: ${message}); it is missing RBAC. ${RBAC_FIX}`;
  const [, user, verb, resource, group, namespace] = m;
  const where = namespace ? `in namespace ${namespace}` : 'at the cluster scope';
  return `the operator's identity "${user}" may not ${verb} ${resource} (API group "${group}") ${where}: it is missing RBAC. ` +
    `${RBAC_FIX}. The rule it needs: {apiGroups: ["${group}"], resources: ["${resource}"], verbs: ["${verb}"]}${namespace ? ` in namespace ${namespace}` : ''}`;
}

/**
 * What a failed start-up call says is missing, with the fix; undefined for
 * failures that are not about the installation (those keep their own message).
 */
export function startupProblem(e: unknown, ctx: StartupContext): string | undefined {
  const status = apiStatus(e);
  if (status === undefined) return undefined;
  const message = apiMessage(e);
  if (status === 401) {
    return `the API server did not accept the operator's credentials (401 Unauthorized): check the kubeconfig (--kubeconfig, KUBECONFIG), or in a pod its ServiceAccount token`;
  }
  if (status === 403) return forbidden(message);
  if (status !== 404) return undefined;
  const ns = NO_NAMESPACE.exec(message)?.[1];
  if (ns) return missingNamespace(ns);
  return ctx.crd ? missingCrd(ctx.crd) : undefined;
}

/** How long start-up calls are retried while the API server answers 5xx/429 or not at all (e.g. storage still initializing). */
export const STARTUP_RETRY_MS = 60_000;

/**
 * Runs one start-up call; a failure that says what is missing becomes a StartupError.
 * A transient one (ADR 20: no answer, 429, 5xx, as a kube-apiserver that has just
 * started gives) is retried with backoff for up to `retryMs`.
 */
async function step<T>(call: () => Promise<T>, ctx: StartupContext, retryMs = STARTUP_RETRY_MS, pause = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  const deadline = Date.now() + retryMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await call();
    } catch (e) {
      const problem = startupProblem(e, ctx);
      if (problem) throw new StartupError(problem);
      if (classifyApiError(e) !== 'transient' || Date.now() + wait > deadline) throw e;
      await pause(wait);
    }
  }
}

/**
 * Checks, before the operator starts anything, that its namespace exists, that the
 * CRDs are installed, and that its identity may read them: each in one read, each
 * failure a StartupError that says what to do. RBAC for what comes later (Secrets,
 * webhook configurations, the APIService, the Lease) is reported by startupProblem
 * when that call is refused.
 */
export async function preflight(kube: Pick<Kube, 'getNamespaceLabels' | 'listSessions' | 'listPolicies'>, namespace: string, opts: { retryMs?: number } = {}): Promise<void> {
  const ctx = { namespace };
  const retryMs = opts.retryMs ?? STARTUP_RETRY_MS;
  const labels = await step(() => kube.getNamespaceLabels(namespace), ctx, retryMs);
  if (labels === undefined) throw new StartupError(missingNamespace(namespace));
  await step(() => kube.listSessions(), { ...ctx, crd: 'execsessions.execsession.dev' }, retryMs);
  await step(() => kube.listPolicies(namespace), { ...ctx, crd: 'execpolicies.execsession.dev or clusterexecpolicies.execsession.dev' }, retryMs);
}
