/**
 * Which sessions to decide again when something their decision reads changes
 * (ADR 35): a session that waits (for approval, for its target) is not
 * re-authorized on a timer; instead a change of an ExecPolicy or
 * ClusterExecPolicy, or of RBAC (Roles, RoleBindings, ClusterRoles,
 * ClusterRoleBindings), queues the waiting sessions it can affect. Changes
 * arriving together are gathered for a moment, so a `kubectl apply` of many
 * bindings decides each session once. Pure bookkeeping: the controller feeds it
 * watch events and gives it the queue's add.
 */
import type { Phase } from '../api/types.js';

/** Phases in which a session's authorization is decided again on a change (Reconciler.start runs). */
const WAITING: ReadonlySet<Phase | 'none'> = new Set<Phase | 'none'>(['none', 'Pending', 'WaitingForApproval', 'Approved']);

/** What the index reads of a watched session. */
interface Watched {
  metadata?: { namespace?: string; name?: string };
  status?: { phase?: Phase };
}

/** What the index reads of a watched policy or RBAC object. */
interface Changed {
  metadata?: { namespace?: string; name?: string; generation?: number };
}

/** How long changes are gathered before the affected sessions are queued. */
export const GATHER_MS = 100;

export class Redecider {
  /** Waiting session keys (`namespace/name`) by namespace. */
  private readonly waiting = new Map<string, Set<string>>();
  /** The generation last seen of each policy, so that its own status writes do not count as changes. */
  private readonly generations = new Map<string, number>();
  /** Namespaces whose waiting sessions are due, or '*' for all. */
  private readonly due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly add: (key: string) => void, private readonly gatherMs = GATHER_MS) {}

  /** A session as listed or watched. */
  session(type: string, s: Watched): void {
    const ns = s.metadata?.namespace ?? '';
    const key = `${ns}/${s.metadata?.name ?? ''}`;
    const set = this.waiting.get(ns) ?? new Set<string>();
    if (type !== 'DELETED' && WAITING.has(s.status?.phase ?? 'none')) set.add(key);
    else set.delete(key);
    if (set.size > 0) this.waiting.set(ns, set);
    else this.waiting.delete(ns);
  }

  /** A (re)list of every session: exactly these exist now. */
  sessionsListed(all: Watched[]): void {
    this.waiting.clear();
    for (const s of all) this.session('SYNC', s);
  }

  /**
   * A policy as listed or watched (kind: ExecPolicy or ClusterExecPolicy). Only a
   * new generation (a spec change), a deletion, or a policy not seen before counts;
   * `listed` marks the start-up list, when every waiting session is decided anyway.
   */
  policy(type: string, kind: string, p: Changed, listed = false): void {
    const key = `${kind}/${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
    const gen = p.metadata?.generation ?? 0;
    const before = this.generations.get(key);
    if (type === 'DELETED') this.generations.delete(key);
    else this.generations.set(key, gen);
    if (type !== 'DELETED' && (before === gen || (before === undefined && listed))) return;
    this.changed(p.metadata?.namespace);
  }

  /** An RBAC object changed (not merely listed): its namespace's waiting sessions, or all for a cluster-wide one. */
  rbac(type: string, o: Changed): void {
    if (type === 'SYNC') return;
    this.changed(o.metadata?.namespace);
  }

  /** A relist of RBAC after a watch gap: changes may have been missed, so everything waiting is due. */
  rbacRelisted(): void {
    this.changed(undefined);
  }

  /** Waiting sessions in a namespace (undefined: in every namespace) are due for a new decision. */
  changed(namespace: string | undefined): void {
    this.due.add(namespace || '*');
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.gatherMs);
    this.timer.unref();
  }

  /** Queues every due waiting session now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const namespaces = this.due.has('*') ? [...this.waiting.keys()] : [...this.due];
    this.due.clear();
    for (const ns of namespaces) for (const key of this.waiting.get(ns) ?? []) this.add(key);
  }

  /** How many sessions wait (for tests). */
  get size(): number {
    let n = 0;
    for (const s of this.waiting.values()) n += s.size;
    return n;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
    this.waiting.clear();
    this.generations.clear();
  }
}
