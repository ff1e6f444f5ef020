/**
 * An in-memory Kube for unit tests of code that reads sessions, pods and
 * policies and patches session status: sessions with resourceVersions (a stale
 * one conflicts, as on a real API server), a SubjectAccessReview answered by a
 * function, recorded events. Anything else throws, so a test notices when the
 * code under test starts to need more.
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
  /** Who may create pods/exec: by default everyone. */
  allow: (who: Person) => boolean = () => true;
  /** Answers exec into a pod (the helper's sub-commands); by default there is none. */
  onExec: (namespace: string, pod: string, argv: string[]) => ExecResult = () => {
    throw new Error('FakeCluster: Kube.exec is not faked');
  };
  /** Called before each status patch is applied (e.g. to change the session in between, for a conflict). */
  beforePatch: () => void = () => undefined;
  private version = 1;

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
      exec: async (ns, pod, _container, argv) => this.onExec(ns, pod, argv),
      deletePod: async (ns, name) => void this.pods.delete(`${ns}/${name}`),
      createPod: async (pod) => {
        const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
        if (this.pods.has(key)) throw new ApiException(409, 'conflict', { message: `pods "${pod.metadata?.name}" already exists` }, {});
        this.pods.set(key, structuredClone(pod));
        return structuredClone(pod);
      },
      subjectAccessReview: async (who, attrs) => {
        this.reviews.push({ who, attrs });
        return { allowed: this.allow(who) };
      },
      listPolicies: async () => this.policies,
      getNamespaceLabels: async () => this.namespaceLabels,
      recordEvent: async (_s, e) => void this.events.push(e),
    };
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
    return structuredClone(s);
  }
}
