/**
 * What every benchmark stands on: the local cluster (started here, and stopped
 * again, if none runs), the CRDs, a namespace with the target pod (running as
 * bob) and the operator. Cleaned up whatever the benchmark does.
 */
import { down, isRunning, up } from '../tools/cluster/cluster.js';
import { tempNamespace } from '../tools/support/cluster.js';
import { OperatorProcess, installCrds } from '../tools/support/operator.js';
import { runTargetPod } from '../tools/support/pods.js';

/** Runs `bench` with the namespace of a running target pod and a running operator (started with `operatorArgs`). */
export async function withTarget(prefix: string, bench: (namespace: string, operator: OperatorProcess) => Promise<void>, operatorArgs: string[] = []): Promise<void> {
  const startedHere = !(await isRunning());
  if (startedHere) await up();
  // The operator as the image runs it: bundled, not compiled at run time.
  const operator = new OperatorProcess(operatorArgs, undefined, { bundled: true });
  let ns: Awaited<ReturnType<typeof tempNamespace>> | undefined;
  try {
    await installCrds();
    ns = await tempNamespace(prefix);
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await operator.start();
    await bench(ns.name, operator);
  } finally {
    await operator.stop();
    await ns?.remove();
    if (startedHere) await down();
  }
}

/** Milliseconds of each of `n` round trips: `send()`, then wait until `received()` changes. */
export async function roundTrips(n: number, send: () => void, received: () => number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = received();
    const start = process.hrtime.bigint();
    send();
    while (received() === before) await new Promise((r) => setImmediate(r));
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

/** Prints a failure and exits 1. */
export function fail(e: unknown): never {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
}
