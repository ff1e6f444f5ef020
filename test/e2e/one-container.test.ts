/**
 * Many sessions started together on one target container (issue 15, ADR 40):
 * 20 created at once must all be Ready within 120 s, each as the user resolved
 * inside that container, and leave no helper behind when deleted. The bound is a
 * correctness bound, not a benchmark (42.9 s in its first run). At 60 the old code
 * got none Ready in 480 s (idle helpers polling each second starved 16 inspections
 * at once past their exec timeout); at 20 or 30 it got through, so the causes are
 * pinned by unit tests (helper-script: serve does not poll; reconcile-inspections:
 * slots per node), and this suite holds the whole path to its bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ANNOTATION_SESSION_NAMESPACE, LABEL_COMPONENT } from '../../src/exec/helper-pod.js';
import { eventually, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, installCrds, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const SESSIONS = 20;
const READY_WITHIN_MS = 120_000;

describe('sessions started together on one container', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;

  /** Helper pods serving sessions of this suite's namespace. */
  async function helpers(): Promise<number> {
    const out = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', `${LABEL_COMPONENT}=execsession-helper`, '-o', 'json']);
    const pods = (JSON.parse(out) as { items: Array<{ metadata: { annotations?: Record<string, string> } }> }).items;
    return pods.filter((p) => p.metadata.annotations?.[ANNOTATION_SESSION_NAMESPACE] === ns.name).length;
  }

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('together');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    operator = suiteOperator();
    await operator.start();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it(`gets ${SESSIONS} sessions created at once on one container Ready within ${READY_WITHIN_MS / 1000} s, each as alice, and leaves no helper when they are deleted`, async () => {
    const names = Array.from({ length: SESSIONS }, (_, i) => `s-${i}`);
    const t0 = Date.now();
    await Promise.all(names.map((n) => createSession(ns.name, n, { podName: 'target', user: 'alice', ttl: '10m' })));
    const ready = await Promise.all(names.map((n) => waitForPhase(ns.name, n, ['Ready'], READY_WITHIN_MS - (Date.now() - t0))));
    const slowest = Math.max(...ready.map((r) => r.seenAt - t0));
    assert.ok(slowest <= READY_WITHIN_MS, `the last session was Ready after ${slowest} ms`);
    const containers = new Set(ready.map((r) => r.session.status?.containerID));
    assert.equal(containers.size, 1, 'every session entered the same container');
    for (const { session } of ready) {
      assert.equal(session.status?.user?.uid, 1000, `${session.metadata.name} resolved alice inside the container`);
      assert.deepEqual(session.status?.user?.groups, [1000, 2000]);
    }
    await kubectlOk(['-n', ns.name, 'delete', 'execsessions', '--all', '--wait=false']);
    await eventually('every helper of the suite gone', async () => (await helpers()) === 0, 90_000, 500);
  });
});
