/**
 * `npm run bench:lifecycle`: time from `create ExecSession` to phase Ready, over
 * 20 sessions, next to the time from `create Pod` to Ready for a plain pod shaped
 * like the helper (privileged, hostPID, nodeName set) on the same cluster in the
 * same run; then the same sessions with a warm helper waiting (the operator
 * restarted with --warm-helpers 1, ADR 41: each session created once the pool has
 * a running pod). Prints medians, p90 and the ratios, and where the cold path's
 * time goes (create to Starting, Starting to the helper running, the helper
 * running to Ready, as a poll every 10 ms sees them). Starts the local cluster if
 * none runs (and stops it again).
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { IMAGES, NODE_NAME } from '../tools/cluster/config.js';
import { kubeConfig, kubectlOk } from '../tools/support/cluster.js';
import { KubeClient } from '../src/k8s/kube.js';
import { POOL_SELECTOR } from '../src/exec/warm-pod.js';
import { OperatorProcess } from '../tools/support/operator.js';
import { fail, withTarget } from './fixture.js';

const OPERATOR_NAMESPACE = 'execsession-system';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function stats(ms: number[]): { median: number; p90: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Where one session's time went (ms from its create): Starting seen, its helper's container running seen, Ready; and whether its helper was a warm one. */
interface Phases { starting: number; helperRunning: number; ready: number; warm: boolean }

/** A pool pod waiting on the node (its container running), for the warm runs. */
async function poolWaiting(kube: KubeClient): Promise<boolean> {
  const pods = await kube.listPods(OPERATOR_NAMESPACE, POOL_SELECTOR);
  return pods.some((p) => !p.metadata?.deletionTimestamp && p.status?.containerStatuses?.some((c) => c.state?.running));
}

async function sessionRuns(ns: string, prefix: string, opts: { warm?: boolean; phases?: Phases[]; runs?: number } = {}): Promise<number[]> {
  const kube = new KubeClient(kubeConfig());
  // Created through the API client, as the plain pods are: a kubectl process start would be counted otherwise.
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const times: number[] = [];
  for (let i = 0; i < (opts.runs ?? RUNS); i++) {
    const name = `${prefix}-${i}`;
    // Warm: the pool is refilled after each claim; a run starts once a pod waits (the steady state of a used node).
    if (opts.warm) await until(() => poolWaiting(kube), 'a warm helper waiting', 120_000);
    const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace: ns }, spec: { podName: 'target', user: 'alice', ttl: '5m' } };
    const start = Date.now();
    await custom.createNamespacedCustomObject({ group: 'execsession.dev', version: 'v1alpha1', namespace: ns, plural: 'execsessions', body });
    const seen: Partial<Phases> = {};
    await until(async () => {
      const s = await kube.getSession(ns, name);
      const phase = s?.status?.phase;
      if (phase === 'Starting' || phase === 'Ready') seen.starting ??= Date.now() - start;
      const helper = s?.status?.helperPod;
      if (opts.phases && helper && seen.helperRunning === undefined) {
        const pod = await kube.getPod(helper.namespace, helper.name);
        if (pod?.status?.containerStatuses?.some((c) => c.state?.running)) seen.helperRunning = Date.now() - start;
      }
      return phase === 'Ready';
    }, `session ${name} Ready`);
    times.push(Date.now() - start);
    const helperName = (await kube.getSession(ns, name))?.status?.helperPod?.name ?? '';
    opts.phases?.push({ starting: seen.starting ?? NaN, helperRunning: seen.helperRunning ?? NaN, ready: Date.now() - start, warm: helperName.startsWith('execsession-warm-') });
    await kubectlOk(['-n', ns, 'delete', 'execsession', name, '--timeout=60s']);
  }
  return times;
}

async function podRuns(ns: string): Promise<number[]> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const name = `plain-${i}`;
    const start = Date.now();
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          nodeName: NODE_NAME, hostPID: true, automountServiceAccountToken: false, terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: IMAGES.helper, imagePullPolicy: 'Never', command: ['sleep', '3600'], securityContext: { privileged: true } }],
        },
      },
    });
    await until(async () => (await core.readNamespacedPod({ namespace: ns, name })).status?.containerStatuses?.[0]?.ready === true, `pod ${name} ready`);
    times.push(Date.now() - start);
    await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
  }
  return times;
}

const row = (label: string, s: ReturnType<typeof stats>): string =>
  `${label.padEnd(34)} ${String(s.median).padStart(7)} ${String(s.p90).padStart(7)} ${String(s.min).padStart(7)} ${String(s.max).padStart(7)}`;

let pods: ReturnType<typeof stats>;
let cold: ReturnType<typeof stats>;
const phases: Phases[] = [];

async function plainAndCold(ns: string): Promise<void> {
  pods = stats(await podRuns(ns));
  cold = stats(await sessionRuns(ns, 'cold', { phases }));
}

async function warm(ns: string, operator: OperatorProcess): Promise<void> {
  // The first session makes the node recently used: the pool is filled there from then on.
  await sessionRuns(ns, 'first', { runs: 1 });
  const warmPhases: Phases[] = [];
  const w = stats(await sessionRuns(ns, 'warm', { warm: true, phases: warmPhases }));
  console.error(operator.log(3));
  console.log(`\ncreate to Ready over ${RUNS} runs each (ms), same cluster, same run`);
  console.log(`${''.padEnd(34)} ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}`);
  console.log(row('plain pod (helper-shaped)', pods));
  console.log(row('ExecSession, cold (helper made)', cold));
  console.log(row('ExecSession, warm helper claimed', w));
  console.log(`ratio cold ExecSession / plain pod (median): ${(cold.median / pods.median).toFixed(2)} (goal <= 1.0)`);
  console.log(`warm ExecSession median: ${w.median} ms (goal <= 300 ms); ratio warm / plain pod: ${(w.median / pods.median).toFixed(2)}`);
  const med = (f: (p: Phases) => number): number => stats(phases.map(f)).median;
  console.log('\nthe cold path, median ms of each step (a 10 ms poll of status and the helper pod):');
  console.log(`  create -> Starting (webhook, finalizer, reviews, target, lifetime written)  ${med((p) => p.starting)}`);
  console.log(`  Starting -> helper container running (pod start)                          ${med((p) => p.helperRunning - p.starting)}`);
  console.log(`  helper running -> Ready (requeue or pod event, inspect exec, review, status) ${med((p) => p.ready - p.helperRunning)}`);
  const wmed = (f: (p: Phases) => number): number => stats(warmPhases.map(f)).median;
  console.log(`the warm path (${warmPhases.filter((p) => p.warm).length} of ${warmPhases.length} sessions had a claimed warm helper), median ms:`);
  console.log(`  create -> Starting (as above, plus the claim and the deadline exec)         ${wmed((p) => p.starting)}`);
  console.log(`  Starting -> Ready (inspect exec, review, status)                           ${wmed((p) => p.ready - p.starting)}`);
}

async function main(): Promise<void> {
  await withTarget('bench', plainAndCold);
  await withTarget('bench-warm', warm, ['--warm-helpers', '1', '--warm-helper-idle', '10m']);
}

main().catch(fail);
