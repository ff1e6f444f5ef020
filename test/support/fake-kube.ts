/**
 * An in-memory Kube for unit tests of code that reads sessions, pods and
 * policies and patches session status: sessions with resourceVersions (a stale
 * one conflicts, as on a real API server), a SubjectAccessReview answered by a
 * function, recorded events. Every write that took effect is listed in
 * `actions` (as sample-controller's fake clientset lists them), and any call can
 * be made to fail (`failNext`), e.g. with a 503 or a reset connection. Anything
 * else throws, so a test notices when the code under test starts to need more.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import type { ExecSession, ExecSessionStatus, Person } from '../../src/api/types.js';
import type { ExecResult, Kube, SessionEvent } from '../../src/k8s/kube.js';
import type { PolicyEntry } from '../../src/policy/types.js';

/** A SubjectAccessReview as the fake saw it. */
export interface ReviewCall {
  who: Person;
  attrs: { namespace: string; verb: string; resource: string; subresource?: string; name?: string };
}

/** The fake's state, open for tests to arrange and inspect. */
export class FakeCluster {
  sessions = new Map<string, ExecSession>();
  pods = new Map<string, V1Pod>();
  nodes = new Map<string, V1Node>();
  policies: PolicyEntry[] = [];
  namespaceLabels: Record<string, string> = {};
  events: SessionEvent[] = [];
  reviews: ReviewCall[] = [];
  /** The creationTimestamp the fake gives pods it creates (the API server's clock). */
  podClock: () => Date = () => new Date();
  /** Who may create pods/exec: by default everyone. */
  allow: (who: Person) => boolean = () => true;
  /** Answers exec into a pod (the helper's sub-commands); by default there is none. */
  onExec: (namespace: string, pod: string, argv: string[]) => ExecResult = () => {
    throw new Error('FakeCluster: Kube.exec is not faked');
  };
  /** Called before each status patch is applied (e.g. to change the session in between, for a conflict). */
  beforePatch: () => void = () => undefined;
  /**
   * The writes that took effect, in order: `patch execsessions/status NS/NAME`,
   * `update execsessions NS/NAME finalizers`, `delete execsessions NS/NAME`,
   * `create pods NS/NAME`, `delete pods NS/NAME`, `create events TYPE REASON`.
   */
  actions: string[] = [];
  private readonly failures = new Map<string, unknown[]>();
  private version = 1;

  /** Makes the next calls of `method` throw these errors, one call each, before they do anything. */
  failNext(method: keyof Kube, ...errors: unknown[]): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...errors]);
  }

  addSession(s: ExecSession): ExecSession {
    const stored = structuredClone({ ...s, metadata: { ...s.metadata, resourceVersion: String(this.version++) } });
    this.sessions.set(`${s.metadata.namespace}/${s.metadata.name}`, stored);
    return stored;
  }

  addPod(namespace: string, name: string, labels: Record<string, string> = {}): void {
    this.pods.set(`${namespace}/${name}`, { metadata: { name, namespace, labels }, spec: { containers: [{ name: 'main' }] } });
  }

  /** Bumps a session's resourceVersion, as any write by someone else would. */
  touch(namespace: string, name: string): void {
    const s = this.sessions.get(`${namespace}/${name}`);
    if (s) s.metadata.resourceVersion = String(this.version++);
  }

  kube(): Kube {
    const impl: Partial<Kube> = {
      getSession: async (ns, name) => structuredClone(this.sessions.get(`${ns}/${name}`)),
      listSessions: async () => [...this.sessions.values()].map((s) => structuredClone(s)),
      patchSessionStatus: async (ns, name, status, resourceVersion) => this.patchStatus(ns, name, status, resourceVersion),
      getPod: async (ns, name) => structuredClone(this.pods.get(`${ns}/${name}`)),
      getNode: async (name) => structuredClone(this.nodes.get(name)),
      // Selectors of k=v pairs, as the controller writes them.
      listPods: async (ns, selector) => [...this.pods.entries()]
        .filter(([k, p]) => k.startsWith(`${ns}/`) && selector.split(',').every((kv) => {
          const [key = '', value] = kv.split('=');
          return p.metadata?.labels?.[key] === value;
        }))
        .map(([, p]) => structuredClone(p)),
      exec: async (ns, pod, _container, argv) => this.onExec(ns, pod, argv),
      deletePod: async (ns, name) => {
        if (this.pods.delete(`${ns}/${name}`)) this.actions.push(`delete pods ${ns}/${name}`);
      },
      createPod: async (pod) => {
        // generateName, as the API server does it (a counter for its random suffix).
        if (!pod.metadata?.name && pod.metadata?.generateName) pod = { ...pod, metadata: { ...pod.metadata, name: `${pod.metadata.generateName}${this.version++}` } };
        const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
        if (this.pods.has(key)) throw new ApiException(409, 'conflict', { message: `pods "${pod.metadata?.name}" already exists` }, {});
        const created = { ...structuredClone(pod), metadata: { ...pod.metadata, creationTimestamp: this.podClock() as never, resourceVersion: String(this.version++) } };
        this.pods.set(key, created);
        this.actions.push(`create pods ${key}`);
        return structuredClone(created);
      },
      replacePod: async (pod) => {
        const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
        const was = this.pods.get(key);
        if (!was) throw new ApiException(404, 'not found', {}, {});
        if (pod.metadata?.resourceVersion !== was.metadata?.resourceVersion) throw new ApiException(409, 'conflict', { message: 'the object has been modified' }, {});
        const next = { ...structuredClone(pod), status: was.status, metadata: { ...structuredClone(pod.metadata), resourceVersion: String(this.version++) } };
        this.pods.set(key, next);
        this.actions.push(`update pods ${key}`);
        return structuredClone(next);
      },
      setSessionFinalizers: async (ns, name, finalizers, resourceVersion) => {
        const s = this.sessions.get(`${ns}/${name}`);
        if (!s) throw new ApiException(404, 'not found', {}, {});
        if (resourceVersion && resourceVersion !== s.metadata.resourceVersion) throw new ApiException(409, 'conflict', { message: 'the object has been modified' }, {});
        s.metadata.finalizers = [...finalizers];
        s.metadata.resourceVersion = String(this.version++);
        this.actions.push(`update execsessions ${ns}/${name} finalizers`);
        return structuredClone(s);
      },
      deleteSession: async (ns, name, uid) => {
        const s = this.sessions.get(`${ns}/${name}`);
        if (!s || s.metadata.uid !== uid) return;
        this.sessions.delete(`${ns}/${name}`);
        this.actions.push(`delete execsessions ${ns}/${name}`);
      },
      subjectAccessReview: async (who, attrs) => {
        this.reviews.push({ who, attrs });
        return { allowed: this.allow(who) };
      },
      listPolicies: async () => this.policies,
      getNamespaceLabels: async () => this.namespaceLabels,
      recordEvent: async (_s, e) => {
        this.events.push(e);
        this.actions.push(`create events ${e.type} ${e.reason}`);
      },
    };
    // Injected failures come first: the call then has no effect, as when the API server never answered.
    for (const [name, fn] of Object.entries(impl) as [string, (...a: unknown[]) => Promise<unknown>][]) {
      (impl as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const failure = this.failures.get(name)?.shift();
        if (failure !== undefined) throw failure;
        return fn(...args);
      };
    }
    return new Proxy(impl, {
      get: (target, prop) => target[prop as keyof Kube] ?? (() => {
        throw new Error(`FakeCluster: Kube.${String(prop)} is not faked`);
      }),
    }) as Kube;
  }

  private patchStatus(ns: string, name: string, status: Partial<ExecSessionStatus>, resourceVersion?: string): ExecSession {
    this.beforePatch();
    const s = this.sessions.get(`${ns}/${name}`);
    if (!s) throw new ApiException(404, 'not found', {}, {});
    if (resourceVersion && resourceVersion !== s.metadata.resourceVersion) throw new ApiException(409, 'conflict', { message: 'the object has been modified' }, {});
    s.status = { ...s.status, ...structuredClone(status) };
    s.metadata.resourceVersion = String(this.version++);
    this.actions.push(`patch execsessions/status ${ns}/${name}`);
    return structuredClone(s);
  }
}
