/**
 * How many helper inspections the controller runs at once on one node (issue 15,
 * ADR 40). Each inspection is an exec into a helper pod: the node's runc joins
 * the helper's cgroups (on cgroup v1 one write per hierarchy, each waiting for an
 * RCU grace period under a lock every fork on the node also takes) and the
 * helper's script forks some sixty processes. Sixteen of those at once on one
 * node slowed every one of them past the exec timeout, and the retries kept the
 * node as busy: a few slots finish each inspection in seconds. A session that
 * finds them taken waits in the queue, not in a worker, and is queued again
 * (first come, first served) when a slot frees.
 */

/** Inspections at once per node: enough to keep the node busy, few enough that each takes seconds. */
export const INSPECTIONS_PER_NODE = 4;

/** Wakes a waiting session: puts its key back on the work queue. */
export type Wake = (key: string) => void;

export class NodeSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, string[]>();

  constructor(private readonly perNode: number, private readonly wake: Wake = () => undefined) {}

  /**
   * Takes a slot on `node` for session `key`; returns its release (idempotent), or
   * undefined when every slot is taken, and then `key` is woken when one frees.
   */
  take(node: string, key: string): (() => void) | undefined {
    const n = this.busy.get(node) ?? 0;
    if (n >= this.perNode) {
      const queue = this.waiting.get(node) ?? [];
      if (!queue.includes(key)) queue.push(key);
      this.waiting.set(node, queue);
      return undefined;
    }
    this.dequeue(node, key);
    this.busy.set(node, n + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.release(node);
    };
  }

  /** Slots in use on a node. */
  inUse(node: string): number {
    return this.busy.get(node) ?? 0;
  }

  /** Sessions waiting for a slot on a node. */
  waiters(node: string): number {
    return this.waiting.get(node)?.length ?? 0;
  }

  private release(node: string): void {
    const left = (this.busy.get(node) ?? 1) - 1;
    if (left > 0) this.busy.set(node, left);
    else this.busy.delete(node);
    const next = this.waiting.get(node)?.shift();
    if (this.waiting.get(node)?.length === 0) this.waiting.delete(node);
    if (next !== undefined) this.wake(next);
  }

  private dequeue(node: string, key: string): void {
    const queue = this.waiting.get(node);
    if (!queue) return;
    const i = queue.indexOf(key);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) this.waiting.delete(node);
  }
}
