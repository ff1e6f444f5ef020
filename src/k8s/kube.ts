/**
 * The operator's narrow view of the Kubernetes API, over @kubernetes/client-node
 * 1.4. The controller depends on the `Kube` interface only, so unit tests can
 * hand it a fake and integration tests the real thing.
 */
import {
  AdmissionregistrationV1Api, ApiregistrationV1Api, AuthenticationV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, Exec, type KubeConfig, PatchStrategy,
  type CoreV1Event, type V1APIService, type V1ConfigMap, type V1Lease, type V1MutatingWebhookConfiguration, type V1Node, type V1ObjectMeta, type V1Pod, type V1Secret, type V1Status,
  type V1ValidatingWebhookConfiguration, setHeaderOptions,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { GROUP, PLURAL, VERSION, type ExecSession, type ExecSessionStatus, type Person } from '../api/types.js';
import { withoutEmptyStrings } from '../api/wire.js';
import { apiMessage, bodyMessage, classifyApiError } from './api-errors.js';
import {
  CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL, EXEC_POLICY_KIND, EXEC_POLICY_PLURAL,
  type ClusterExecPolicy, type ExecPolicy, type PolicyEntry,
} from '../policy/types.js';

/** The outcome of a command run in a pod. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

// Callers have long taken these from here; they live with the error classification.
export { apiMessage, apiStatus } from './api-errors.js';

/** A Kubernetes Event about an ExecSession. */
export interface SessionEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What the controller needs from the API server. */
export interface Kube {
  getSession(namespace: string, name: string): Promise<ExecSession | undefined>;
  /** Every ExecSession in every namespace (the uninstall guard asks which live). */
  listSessions(): Promise<ExecSession[]>;
  /**
   * Merge-patches status. With `resourceVersion`, fails with a conflict (409) if
   * the session changed since: for read-modify-write of lists such as approvals.
   */
  patchSessionStatus(namespace: string, name: string, status: Partial<ExecSessionStatus>, resourceVersion?: string): Promise<ExecSession>;
  /** Sets the finalizers, failing with a conflict if the object changed since `resourceVersion`. */
  setSessionFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<ExecSession>;
  deleteSession(namespace: string, name: string, uid: string): Promise<void>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  getNode(name: string): Promise<V1Node | undefined>;
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Replaces a pod (PUT): with its metadata.resourceVersion, fails with a conflict (409) if it changed since. */
  replacePod(pod: V1Pod): Promise<V1Pod>;
  /** Deletes a pod; `gracePeriodSeconds` overrides the pod's own. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  recordEvent(session: ExecSession, event: SessionEvent): Promise<void>;
  exec(namespace: string, pod: string, container: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /** Can this identity do this? (authorization.k8s.io SubjectAccessReview) */
  subjectAccessReview(who: Person, attrs: { namespace: string; verb: string; resource: string; subresource?: string; name?: string }): Promise<{ allowed: boolean; reason?: string }>;
  /** May this identity use `verb` on the non-resource URL `path` (e.g. get /metrics)? A SubjectAccessReview too. */
  nonResourceAccessReview(who: Person, path: string, verb: string): Promise<{ allowed: boolean; reason?: string }>;
  /** Whom a bearer token belongs to (authentication.k8s.io TokenReview); undefined when kube-apiserver does not authenticate it. */
  reviewToken(token: string): Promise<Person | undefined>;
  getNamespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  /** ExecPolicies of a namespace and all ClusterExecPolicies. */
  listPolicies(namespace: string): Promise<PolicyEntry[]>;
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  createSecret(secret: V1Secret): Promise<V1Secret>;
  replaceSecret(secret: V1Secret): Promise<V1Secret>;
  /** Creates or replaces both webhook configurations. */
  applyWebhookConfigurations(mutating: V1MutatingWebhookConfiguration, validating: V1ValidatingWebhookConfiguration): Promise<void>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /** Creates or replaces an APIService (the aggregated API's registration). */
  applyApiService(service: V1APIService): Promise<void>;
  /**
   * Opens a raw exec WebSocket (channel protocol v5.channel.k8s.io, else v4) to a pod,
   * for relaying frames; the caller owns the socket.
   */
  openExecStream(namespace: string, pod: string, container: string, argv: string[], opts: ExecStreamOptions): Promise<WebSocket>;
  getLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  createLease(lease: V1Lease): Promise<V1Lease>;
  replaceLease(lease: V1Lease): Promise<V1Lease>;
}

/** Which streams an exec stream carries. */
export interface ExecStreamOptions {
  tty: boolean;
  stdin: boolean;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (classifyApiError(e) === 'notFound') return undefined;
    throw e;
  }
}

/** Enough attempts to outlast kube-apiserver's own status writes and a second replica starting at the same moment. */
const APPLY_ATTEMPTS = 8;

/**
 * Creates `desired` or replaces what is there, reading first. The installer's labels and annotations stay
 * (app.kubernetes.io/part-of, which the uninstall guard selects on; Helm's). A conflict (kube-apiserver
 * updating the APIService's Available condition between the read and the write, or another replica
 * creating it first) is read again and redone (ADR 20), never an operator exit.
 */
export async function createOrReplace<T extends { metadata?: V1ObjectMeta }>(
  desired: T,
  read: (name: string) => Promise<T>,
  create: (body: T) => Promise<unknown>,
  replace: (name: string, body: T) => Promise<unknown>,
  attempts = APPLY_ATTEMPTS,
): Promise<void> {
  const name = desired.metadata?.name ?? '';
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await orUndefined(read(name));
      if (!existing) {
        await create(desired);
        return;
      }
      const metadata = {
        ...desired.metadata,
        labels: { ...existing.metadata?.labels, ...desired.metadata?.labels },
        annotations: { ...existing.metadata?.annotations, ...desired.metadata?.annotations },
        resourceVersion: existing.metadata?.resourceVersion,
      };
      await replace(name, { ...desired, metadata });
      return;
    } catch (e) {
      if (classifyApiError(e) !== 'conflict' || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Collects a stream's bytes up to a limit, dropping the rest. */
class Bounded extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.size < this.limit) {
      const part = chunk.subarray(0, this.limit - this.size);
      this.chunks.push(part);
      this.size += part.length;
    }
    done();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The exit code carried by an exec status message. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message && /^\d+$/.test(cause.message)) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? status.reason ?? 'unknown error'}`);
}

/** The component that reports the operator's Events. */
export const REPORTING_COMPONENT = 'execsession-operator';

/**
 * The Event recorded about a session: reported by the operator's component and
 * by `instance`, the replica (its Lease identity, the pod's name), so that with
 * two replicas an Event says which one acted.
 */
export function sessionEvent(session: ExecSession, event: SessionEvent, now: Date, instance: string): CoreV1Event {
  const namespace = session.metadata?.namespace ?? 'default';
  return {
    metadata: { generateName: `${session.metadata?.name ?? 'execsession'}.`, namespace },
    involvedObject: {
      apiVersion: `${GROUP}/${VERSION}`, kind: 'ExecSession', namespace,
      name: session.metadata?.name, uid: session.metadata?.uid, resourceVersion: session.metadata?.resourceVersion,
    },
    type: event.type, reason: event.reason, message: event.message.slice(0, 1024),
    firstTimestamp: now, lastTimestamp: now, count: 1,
    source: { component: REPORTING_COMPONENT, ...(instance ? { host: instance } : {}) },
    reportingComponent: REPORTING_COMPONENT, reportingInstance: instance,
  };
}

/** Settings of a KubeClient. */
export interface KubeClientOptions {
  /** Bytes of output kept from a command run in a pod. */
  outputLimit?: number;
  /** The replica, as Events' reportingInstance (default: the host name). */
  instance?: string;
}

/** The real API server. */
export class KubeClient implements Kube {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly coordination: CoordinationV1Api;
  private readonly admission: AdmissionregistrationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly authn: AuthenticationV1Api;
  private readonly execer: Exec;
  private readonly apireg: ApiregistrationV1Api;
  private readonly outputLimit: number;
  private readonly instance: string;

  constructor(private readonly kc: KubeConfig, opts: KubeClientOptions = {}) {
    this.outputLimit = opts.outputLimit ?? 4 << 20;
    this.instance = opts.instance ?? hostname();
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.apireg = kc.makeApiClient(ApiregistrationV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.admission = kc.makeApiClient(AdmissionregistrationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
    this.execer = new Exec(kc);
  }

  private ref(namespace: string, name: string): { group: string; version: string; plural: string; namespace: string; name: string } {
    return { group: GROUP, version: VERSION, plural: PLURAL, namespace, name };
  }

  async getSession(namespace: string, name: string): Promise<ExecSession | undefined> {
    return (await orUndefined(this.custom.getNamespacedCustomObject(this.ref(namespace, name)))) as ExecSession | undefined;
  }

  async listSessions(): Promise<ExecSession[]> {
    return ((await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: ExecSession[] }).items;
  }

  async patchSessionStatus(namespace: string, name: string, status: Partial<ExecSessionStatus>, resourceVersion?: string): Promise<ExecSession> {
    const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status: withoutEmptyStrings(status) };
    return (await this.custom.patchNamespacedCustomObjectStatus({ ...this.ref(namespace, name), body }, mergePatch)) as ExecSession;
  }

  async setSessionFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<ExecSession> {
    const body = { metadata: { finalizers, resourceVersion } };
    return (await this.custom.patchNamespacedCustomObject({ ...this.ref(namespace, name), body }, mergePatch)) as ExecSession;
  }

  async deleteSession(namespace: string, name: string, uid: string): Promise<void> {
    await orUndefined(this.custom.deleteNamespacedCustomObject({ ...this.ref(namespace, name), body: { preconditions: { uid } } }));
  }

  getPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return orUndefined(this.core.readNamespacedPod({ namespace, name }));
  }

  getNode(name: string): Promise<V1Node | undefined> {
    return orUndefined(this.core.readNode({ name }));
  }

  createPod(pod: V1Pod): Promise<V1Pod> {
    return this.core.createNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', body: pod });
  }

  replacePod(pod: V1Pod): Promise<V1Pod> {
    return this.core.replaceNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', body: pod });
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    await orUndefined(this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }));
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  async recordEvent(session: ExecSession, event: SessionEvent): Promise<void> {
    const body = sessionEvent(session, event, new Date(), this.instance);
    await this.core.createNamespacedEvent({ namespace: body.metadata.namespace ?? 'default', body });
  }

  exec(namespace: string, pod: string, container: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const stdout = new Bounded(this.outputLimit);
    const stderr = new Bounded(this.outputLimit);
    return new Promise((resolve, reject) => {
      let ws: { close(): void } | undefined;
      const timer = setTimeout(() => {
        ws?.close();
        reject(new Error(`command in pod ${namespace}/${pod} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const onStatus = (status: V1Status): void => {
        clearTimeout(timer);
        try {
          resolve({ exitCode: exitCodeOf(status), stdout: stdout.bytes(), stderr: stderr.bytes() });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      this.execer.exec(namespace, pod, container, argv, stdout, stderr, null, false, onStatus).then((socket) => {
        ws = socket;
        socket.on('close', () => {
          // A socket that closes without a status means the exec never ran to the end.
          setTimeout(() => reject(new Error(`exec in pod ${namespace}/${pod} closed without an exit status`)), 100);
        });
      }, (e: unknown) => {
        clearTimeout(timer);
        reject(new Error(`exec in pod ${namespace}/${pod} failed: ${apiMessage(e)}`));
      });
    });
  }

  async subjectAccessReview(who: Person, attrs: { namespace: string; verb: string; resource: string; subresource?: string; name?: string }): Promise<{ allowed: boolean; reason?: string }> {
    const r = await this.authz.createSubjectAccessReview({
      body: { spec: { user: who.username, uid: who.uid, groups: who.groups, extra: who.extra, resourceAttributes: { ...attrs, group: '' } } },
    });
    return { allowed: r.status?.allowed === true && r.status.denied !== true, reason: r.status?.reason };
  }

  async nonResourceAccessReview(who: Person, path: string, verb: string): Promise<{ allowed: boolean; reason?: string }> {
    const r = await this.authz.createSubjectAccessReview({
      body: { spec: { user: who.username, uid: who.uid, groups: who.groups, extra: who.extra, nonResourceAttributes: { path, verb } } },
    });
    return { allowed: r.status?.allowed === true && r.status.denied !== true, reason: r.status?.reason };
  }

  async reviewToken(token: string): Promise<Person | undefined> {
    const r = await this.authn.createTokenReview({ body: { spec: { token } } });
    const u = r.status?.user;
    if (r.status?.authenticated !== true || !u?.username) return undefined;
    return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups ?? [], ...(u.extra ? { extra: u.extra } : {}) };
  }

  async getNamespaceLabels(name: string): Promise<Record<string, string> | undefined> {
    const ns = await orUndefined(this.core.readNamespace({ name }));
    return ns ? (ns.metadata?.labels ?? {}) : undefined;
  }

  async listPolicies(namespace: string): Promise<PolicyEntry[]> {
    const [local, cluster] = await Promise.all([
      this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: EXEC_POLICY_PLURAL }) as Promise<{ items: ExecPolicy[] }>,
      this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: CLUSTER_EXEC_POLICY_PLURAL }) as Promise<{ items: ClusterExecPolicy[] }>,
    ]);
    return [
      ...local.items.map((policy) => ({ kind: EXEC_POLICY_KIND, policy }) as PolicyEntry),
      ...cluster.items.map((policy) => ({ kind: CLUSTER_EXEC_POLICY_KIND, policy }) as PolicyEntry),
    ];
  }

  getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return orUndefined(this.core.readNamespacedSecret({ namespace, name }));
  }

  createSecret(secret: V1Secret): Promise<V1Secret> {
    return this.core.createNamespacedSecret({ namespace: secret.metadata?.namespace ?? 'default', body: secret });
  }

  replaceSecret(secret: V1Secret): Promise<V1Secret> {
    return this.core.replaceNamespacedSecret({ namespace: secret.metadata?.namespace ?? 'default', name: secret.metadata?.name ?? '', body: secret });
  }

  async applyWebhookConfigurations(mutating: V1MutatingWebhookConfiguration, validating: V1ValidatingWebhookConfiguration): Promise<void> {
    const a = this.admission;
    await createOrReplace(
      mutating,
      (name) => a.readMutatingWebhookConfiguration({ name }),
      (body) => a.createMutatingWebhookConfiguration({ body }),
      (name, body) => a.replaceMutatingWebhookConfiguration({ name, body }),
    );
    await createOrReplace(
      validating,
      (name) => a.readValidatingWebhookConfiguration({ name }),
      (body) => a.createValidatingWebhookConfiguration({ body }),
      (name, body) => a.replaceValidatingWebhookConfiguration({ name, body }),
    );
  }

  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return orUndefined(this.core.readNamespacedConfigMap({ namespace, name }));
  }

  async applyApiService(service: V1APIService): Promise<void> {
    await createOrReplace(
      service,
      (name) => this.apireg.readAPIService({ name }),
      (body) => this.apireg.createAPIService({ body }),
      (name, body) => this.apireg.replaceAPIService({ name, body }),
    );
  }

  async openExecStream(namespace: string, pod: string, container: string, argv: string[], opts: ExecStreamOptions): Promise<WebSocket> {
    const server = this.kc.getCurrentCluster()?.server ?? '';
    const q = new URLSearchParams({ container, stdout: 'true', stderr: String(!opts.tty), stdin: String(opts.stdin), tty: String(opts.tty) });
    for (const a of argv) q.append('command', a);
    const url = `${server.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q.toString()}`;
    const options: WebSocket.ClientOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    // v5 (Kubernetes 1.30+) can close stdin; older API servers pick v4.
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const message = bodyMessage(Buffer.concat(chunks).toString());
          reject(new Error(`exec in pod ${namespace}/${pod} refused (HTTP ${res.statusCode}): ${message ?? ''}`));
        });
      });
      ws.once('error', reject);
    });
  }

  getLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    return orUndefined(this.coordination.readNamespacedLease({ namespace, name }));
  }

  createLease(lease: V1Lease): Promise<V1Lease> {
    return this.coordination.createNamespacedLease({ namespace: lease.metadata?.namespace ?? 'default', body: lease });
  }

  replaceLease(lease: V1Lease): Promise<V1Lease> {
    return this.coordination.replaceNamespacedLease({ namespace: lease.metadata?.namespace ?? 'default', name: lease.metadata?.name ?? '', body: lease });
  }
}
