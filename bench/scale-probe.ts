/**
 * What bench/scale.ts measures with: a process's RSS and CPU time from /proc,
 * a watch that notes when each session first reached each phase, percentiles,
 * and the table rows it prints.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import type { ExecSession } from '../src/api/types.js';
import { LABEL_COMPONENT } from '../src/exec/helper-pod.js';

/** Clock ticks per second of /proc/PID/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** User plus system CPU seconds a process has used. */
export function cpuSeconds(pid: number): number {
  // The command name may hold spaces; the fields after its closing parenthesis do not.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** The share of one core a process used over `seconds` of wall time (printing progress), in percent. */
export async function cpuOver(pid: number, seconds: number, label: string): Promise<number> {
  const before = cpuSeconds(pid);
  const start = Date.now();
  for (let left = seconds; left > 0; left -= 10) {
    progress(`${label}: measuring CPU, ${left} s left`);
    await sleep(Math.min(10, left) * 1000);
  }
  return (100 * (cpuSeconds(pid) - before)) / ((Date.now() - start) / 1000);
}

/** A quantile (0..1) of some numbers, NaN when there are none. */
export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number);
}

/** p50, p95, p99 and max of some milliseconds. */
export function summary(all: number[]): { p50: number; p95: number; p99: number; max: number; n: number } {
  // What never happened (a session not Ready in time) is left out; n says how many did.
  const ms = all.filter(Number.isFinite);
  return { p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), p99: quantile(ms, 0.99), max: quantile(ms, 1), n: ms.length };
}

/** One progress line on stderr, so that stdout holds the figures alone. */
export function progress(message: string): void {
  process.stderr.write(`  .. ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** Milliseconds with no decimals, or seconds with two from 10 s on. */
export function fmt(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** `x1.23`, the first figure over the second. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? `x${(a / b).toFixed(2)}` : 'n/a';
}

/** When (epoch ms, as this process saw it) each session of a namespace first reached each phase. */
export class PhaseWatch {
  readonly seen = new Map<string, Map<string, number>>();
  readonly sessions = new Map<string, ExecSession>();
  private abort: { abort: () => void } | undefined;

  constructor(private readonly kc: KubeConfig, private readonly namespace: string) {}

  async start(): Promise<void> {
    const path = `/apis/execsession.dev/v1alpha1/namespaces/${this.namespace}/execsessions`;
    this.abort = await new Watch(this.kc).watch(path, { allowWatchBookmarks: 'false' }, (type: string, s: ExecSession) => this.note(type, s), () => undefined);
  }

  stop(): void {
    this.abort?.abort();
  }

  /** When `name` first reached `phase`, if it did. */
  at(name: string, phase: string): number | undefined {
    return this.seen.get(name)?.get(phase);
  }

  /** How many of `names` reached one of `phases`. */
  count(names: string[], phases: string[]): number {
    return names.filter((n) => phases.some((p) => this.at(n, p) !== undefined)).length;
  }

  /** Waits until every one of `names` reached one of `phases`, printing progress. */
  async waitAll(names: string[], phases: string[], label: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastReport = Date.now();
    for (;;) {
      const done = this.count(names, phases);
      if (done === names.length) return;
      if (Date.now() > deadline) throw new Error(`${label}: only ${done} of ${names.length} sessions reached ${phases.join('/')} in ${timeoutMs / 1000} s`);
      if (Date.now() - lastReport > 10_000) {
        progress(`${label}: ${done}/${names.length} ${phases.join('/')}`);
        lastReport = Date.now();
      }
      await sleep(50);
    }
  }

  private note(type: string, s: ExecSession): void {
    const name = s.metadata?.name;
    if (!name || type === 'DELETED') return;
    this.sessions.set(name, s);
    const phase = s.status?.phase;
    if (!phase) return;
    const phases = this.seen.get(name) ?? new Map<string, number>();
    if (!phases.has(phase)) phases.set(phase, Date.now());
    this.seen.set(name, phases);
  }
}

const HELPER_SELECTOR = `${LABEL_COMPONENT}=execsession-helper`;

/** How many helper pods exist in the operator's namespace (terminating ones included). */
export async function helperCount(kc: KubeConfig, namespace: string): Promise<number> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: HELPER_SELECTOR });
  return pods.items.length;
}

/** Polls `count()` every 100 ms until it is zero; returns the epoch ms it was first seen zero. */
export async function untilNone(count: () => Promise<number>, label: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const n = await count();
    if (n === 0) return Date.now();
    if (Date.now() > deadline) throw new Error(`${label}: ${n} left after ${timeoutMs / 1000} s`);
    if (Date.now() - lastReport > 10_000) {
      progress(`${label}: ${n} left`);
      lastReport = Date.now();
    }
    await sleep(100);
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
