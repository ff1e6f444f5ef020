/**
 * The per-session attach limit under concurrent attaches (finding 7), through
 * kube-apiserver to an operator with --attach-limit 4: of many attaches at the
 * same moment exactly four run and every other one is refused with 429, none
 * fails; four attaches side by side each inspect the container in the one helper
 * without corrupting each other's output; and slots come back from attaches that
 * were refused for another reason or whose client left while they were prepared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AttachRefused, attach, openAttachSocket, type Attached } from '../support/attach.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { containerProcesses, createSession, waitForPhase } from '../support/sessions.js';

const LIMIT = 4;

/** Attaches that settled: those that opened, and why the others did not. */
async function attachAll(count: number, open: () => Promise<Attached>): Promise<{ accepted: Attached[]; refused: unknown[] }> {
  const results = await Promise.allSettled(Array.from({ length: count }, open));
  return {
    accepted: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    refused: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

/** Closes attaches and waits until each has closed. */
async function closeAll(attaches: Attached[]): Promise<void> {
  for (const a of attaches) a.ws.close();
  await Promise.all(attaches.map((a) => a.done));
}

describe('attach limit under concurrent attaches', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;

  /** The number of attaches the operator has seen end so far. */
  const ended = (): number => operator.log(100_000).split('\n').filter((l) => l.includes('"attach ended"')).length;

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('attachlimit');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `attachlimit-${ns.name}` },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['*'] }, ttl: { default: '15m', max: '1h' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    operator = new OperatorProcess(['--attach-limit', String(LIMIT)]);
    await operator.start();
    await waitForApi();
    await createSession(ns.name, 'alice', { podName: 'target', user: 'alice', ttl: '30m' }, alice);
    await waitForPhase(ns.name, 'alice', ['Ready']);
  });

  after(async () => {
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `attachlimit-${ns?.name}`]);
    await ns?.remove();
  });

  it(`lets exactly ${LIMIT} of 20 simultaneous attaches run; the other 16 get 429, none fails`, async () => {
    const before = ended();
    const { accepted, refused } = await attachAll(20, () => attach(alice, ns.name, 'alice', { command: ['sleep', '601'], tty: false }));
    try {
      const unexpected = refused.filter((e) => !(e instanceof AttachRefused && e.code === 429));
      assert.deepEqual(unexpected.map(String), [], 'every refusal is a 429');
      assert.equal(accepted.length, LIMIT, `accepted ${accepted.length}, refused ${refused.length}`);
      for (const e of refused) assert.match((e as AttachRefused).body, new RegExp(`already has ${LIMIT} attaches, the limit`));
      // Each accepted attach runs its own process in the container.
      await eventually(`${LIMIT} attached processes`, async () => (await containerProcesses(ns.name, 'target')).filter((p) => p.includes('sleep 601')).length === LIMIT, 30_000, 500);
    } finally {
      await closeAll(accepted);
    }
    await eventually('the attaches to end in the operator', async () => ended() - before >= LIMIT, 15_000, 100);
    assert.doesNotMatch(operator.log(2000), /malformed|truncated in section|could not prepare the process/);
  });

  it(`runs ${LIMIT} attaches side by side, each inspecting the container correctly in the one helper`, async () => {
    for (let round = 0; round < 3; round++) {
      const before = ended();
      const { accepted, refused } = await attachAll(LIMIT, () => attach(alice, ns.name, 'alice', { command: ['id'], tty: false, stdin: false }));
      assert.deepEqual(refused.map(String), [], `round ${round}`);
      const ends = await Promise.all(accepted.map((a) => a.done));
      accepted.forEach((a, i) => {
        assert.equal(a.stdout().trim(), 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)', `round ${round}, attach ${i}: ${a.stderr()}`);
        assert.equal(ends[i]?.status?.status, 'Success', `round ${round}, attach ${i}: ${JSON.stringify(ends[i]?.status)}`);
      });
      // The operator frees a slot when it has seen the attach end.
      await eventually('the attaches to end in the operator', async () => ended() - before >= LIMIT, 15_000, 100);
    }
  });

  it('gives the slot back when an attach is refused after taking it, or its client leaves while it is prepared', async () => {
    // A malformed query is refused (400) after the slot was taken; one that arrives while
    // the limit's worth of them are being refused may see the slots taken (429).
    const bad = await attachAll(10, () => attach(alice, ns.name, 'alice', { command: ['id'], query: { stdin: 'maybe' } }));
    assert.equal(bad.accepted.length, 0);
    const codes = bad.refused.map((e) => (e instanceof AttachRefused ? e.code : String(e)));
    assert.ok(codes.every((c) => c === 400 || c === 429), JSON.stringify(codes));
    assert.ok(codes.includes(400), JSON.stringify(codes));
    assert.match((bad.refused.find((e) => e instanceof AttachRefused && e.code === 400) as AttachRefused).body, /query parameter stdin must be true or false/);
    // Clients that leave during the handshake, while the operator inspects the container.
    const leavers = await Promise.all(Array.from({ length: 8 }, () => openAttachSocket(alice, ns.name, 'alice', { command: ['sleep', '602'], tty: false })));
    for (const ws of leavers) ws.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 150));
    for (const ws of leavers) ws.terminate();

    // Every slot comes back: the limit's worth of attaches run again.
    await eventually(`${LIMIT} attaches to run again`, async () => {
      const { accepted, refused } = await attachAll(LIMIT, () => attach(alice, ns.name, 'alice', { command: ['sleep', '603'], tty: false }));
      await closeAll(accepted);
      const unexpected = refused.filter((e) => !(e instanceof AttachRefused && e.code === 429));
      if (unexpected.length > 0) throw new Error(`unexpected refusals: ${unexpected.map(String).join('; ')}`);
      return accepted.length === LIMIT;
    }, 60_000, 1000);
    assert.doesNotMatch(operator.log(2000), /malformed|truncated in section/);
  });
});
