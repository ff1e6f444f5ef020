/**
 * Targets with their own user namespace (`hostUsers: false`, GA since 1.36): a
 * session sees the container's ids (alice is 1000 inside), while on the node its
 * processes run as the mapped host uid; a root session is the unprivileged mapped
 * root and keeps no capability beyond the container's. With both backends.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { OperatorProcess, installCrds } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, startInSession, waitForPhase } from '../support/sessions.js';

const ALICE = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)';

/** The first line of a uid_map: inside, outside, count. */
function mapOf(uidMap: string): [number, number, number] {
  const [inside = NaN, outside = NaN, count = NaN] = uidMap.trim().split('\n')[0]?.trim().split(/\s+/).map(Number) ?? [];
  return [inside, outside, count];
}

/** The host pid of the one process whose command line is exactly `argv`. */
function hostPidOf(argv: string[]): number | undefined {
  const want = `${argv.join('\0')}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === want) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** Real uid and effective capabilities of a host pid, as the host sees them. */
function hostIdentity(pid: number): { uid: number; capEff: bigint } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return { uid, capEff };
}

for (const backend of ['runtime', 'nsenter'] as const) {
  describe(`user-namespaced target (${backend} backend)`, () => {
    let ns: Awaited<ReturnType<typeof tempNamespace>>;
    let operator: OperatorProcess;
    /** Where the pod's uid 0 is on the host. */
    let hostBase: number;
    let targetCapBnd: bigint;

    before(async () => {
      requireCluster();
      await installCrds();
      ns = await tempNamespace(`userns-${backend}`);
      await runTargetPod('target', ns.name, { hostUsers: false });
      const [inside, outside] = mapOf(await kubectlOk(['-n', ns.name, 'exec', 'target', '--', 'cat', '/proc/1/uid_map']));
      assert.equal(inside, 0);
      hostBase = outside;
      targetCapBnd = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(await kubectlOk(['-n', ns.name, 'exec', 'target', '--', 'grep', 'CapBnd', '/proc/1/status']))?.[1]}`);
      operator = new OperatorProcess(['--backend', backend]);
      await operator.start();
    });
    after(async () => {
      await operator?.stop();
      await ns?.remove();
    });

    it('shows alice her container ids in a namespace that is not the host\'s, and her files are hers inside', async () => {
      const file = `/tmp/by-alice-${backend}`;
      await createSession(ns.name, 'alice-once', {
        podName: 'target', user: 'alice', tty: false,
        command: ['sh', '-c', `id; cat /proc/self/uid_map; touch ${file}; stat -c '%u:%g %U' ${file}`],
      });
      const { session } = await waitForPhase(ns.name, 'alice-once', ['Succeeded']);
      const [id, map, owner] = (session.status?.result?.stdout ?? '').trim().split('\n');
      assert.equal(id, ALICE);
      const [inside, outside] = mapOf(map ?? '');
      assert.equal(inside, 0);
      assert.notEqual(outside, 0, `uid_map "${map}" is not the identity map`);
      assert.equal(outside, hostBase);
      assert.equal(owner, '1000:1000 alice');
      assert.equal(session.status?.backend, backend);
    });

    it('runs alice\'s processes as the mapped host uid on the node, not as 1000', async () => {
      await createSession(ns.name, 'alice-live', { podName: 'target', user: 'alice', ttl: '5m' });
      const { session } = await waitForPhase(ns.name, 'alice-live', ['Ready']);
      const argv = ['sleep', `${backend === 'runtime' ? 4711 : 4712}`];
      await startInSession(session, 'sleeper', argv);
      const pid = (await eventually('the session\'s process on the host', async () => hostPidOf(argv))) as number;
      const { uid, capEff } = hostIdentity(pid);
      assert.equal(uid, hostBase + 1000, `host uid ${uid}: the pod's base ${hostBase} + 1000`);
      assert.equal(capEff, 0n);
    });

    it('gives a root session the unprivileged mapped root, with nothing beyond the container\'s capabilities', async () => {
      await createSession(ns.name, 'root-live', { podName: 'target', user: 'root', ttl: '5m' });
      const { session } = await waitForPhase(ns.name, 'root-live', ['Ready']);
      const argv = ['sleep', `${backend === 'runtime' ? 4721 : 4722}`];
      await startInSession(session, 'sleeper', argv);
      const pid = (await eventually('the root session\'s process on the host', async () => hostPidOf(argv))) as number;
      const { uid, capEff } = hostIdentity(pid);
      assert.equal(uid, hostBase, `host uid ${uid} is the pod's mapped root, not 0`);
      assert.notEqual(uid, 0);
      assert.equal(capEff & ~targetCapBnd, 0n, `CapEff ${capEff.toString(16)} within the container's CapBnd ${targetCapBnd.toString(16)}`);
      // Inside, it is root of the container's namespace.
      await createSession(ns.name, 'root-once', { podName: 'target', user: 'root', tty: false, command: ['id', '-u'] });
      const once = (await waitForPhase(ns.name, 'root-once', ['Succeeded'])).session;
      assert.equal(once.status?.result?.stdout?.trim(), '0');
    });
  });
}
