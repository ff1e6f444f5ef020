/**
 * `npm run bench:lifecycle`: time from `create ExecSession` to phase Ready, over
 * 20 sessions, next to the time from `create Pod` to Ready for a plain pod shaped
 * like the helper (privileged, hostPID, nodeName set) on the same cluster in the
 * same run. Prints medians, p90 and the ratio. Starts the local cluster if none
 * runs (and stops it again).
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { IMAGES, NODE_NAME } from '../tools/cluster/config.js';
import { kubeConfig, kubectlOk } from '../tools/support/cluster.js';
import { KubeClient } from '../src/k8s/kube.js';
import { fail, withTarget } from './fixture.js';

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

async function sessionRuns(ns: string): Promise<number[]> {
  const kube = new KubeClient(kubeConfig());
  // Created through the API client, as the plain pods are: a kubectl process start would be counted otherwise.
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const name = `bench-${i}`;
    const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace: ns }, spec: { podName: 'target', user: 'alice', ttl: '5m' } };
    const start = Date.now();
    await custom.createNamespacedCustomObject({ group: 'execsession.dev', version: 'v1alpha1', namespace: ns, plural: 'execsessions', body });
    await until(async () => (await kube.getSession(ns, name))?.status?.phase === 'Ready', `session ${name} Ready`);
    times.push(Date.now() - start);
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

async function bench(ns: string): Promise<void> {
  const pods = stats(await podRuns(ns));
  const sessions = stats(await sessionRuns(ns));
  const row = (label: string, s: ReturnType<typeof stats>): string =>
    `${label.padEnd(34)} ${String(s.median).padStart(7)} ${String(s.p90).padStart(7)} ${String(s.min).padStart(7)} ${String(s.max).padStart(7)}`;
  console.log(`\ncreate to Ready over ${RUNS} runs each (ms), same cluster, same run`);
  console.log(`${''.padEnd(34)} ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}`);
  console.log(row('plain pod (helper-shaped)', pods));
  console.log(row('ExecSession (helper + inspect)', sessions));
  console.log(`ratio ExecSession / plain pod (median): ${(sessions.median / pods.median).toFixed(2)}`);
}

withTarget('bench', bench).catch(fail);
