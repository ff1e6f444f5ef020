/**
 * Sessions by phase, from the leader's own watch (no extra API calls per
 * scrape): the `execsession_sessions{phase}` gauge reads it. Every listed or
 * changed session sets its key's phase, a deletion removes it, and a relist
 * replaces everything, so a deletion missed while the watch was down does not
 * linger.
 */
import type { Phase } from '../api/types.js';

/** The parts of a watched object the tally reads. */
interface Watched {
  metadata?: { namespace?: string; name?: string };
  status?: { phase?: Phase };
}

function keyOf(obj: Watched): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export class PhaseTally {
  private readonly phases = new Map<string, Phase>();

  /** A watch event or a listed object. A session without a phase yet is Pending, as the controller treats it. */
  observe(type: string, obj: Watched): void {
    if (type === 'DELETED') this.phases.delete(keyOf(obj));
    else this.phases.set(keyOf(obj), obj.status?.phase ?? 'Pending');
  }

  /** A (re)list: exactly these sessions exist now. */
  relisted(objs: Watched[]): void {
    this.phases.clear();
    for (const o of objs) this.observe('SYNC', o);
  }

  clear(): void {
    this.phases.clear();
  }

  /** How many sessions are in each phase. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.phases.values()) out.set(p, (out.get(p) ?? 0) + 1);
    return out;
  }
}
