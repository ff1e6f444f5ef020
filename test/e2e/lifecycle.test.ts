/**
 * The ExecSession lifecycle on the real cluster, through the real operator:
 * entering a container as another user with its confinement kept, docker's user
 * rules, failures with messages, expiry within a second, and a crash of the
 * operator in the middle of a live session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attach } from '../support/attach.js';
import { ADMIN_KUBECONFIG, eventually, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { OPERATOR_NAMESPACE, installCrds, waitForApi, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { containerProcesses, createSession, getSession, startInSession, waitForPhase } from '../support/sessions.js';

const STATUS_LINES = "grep -E '^(Groups|Seccomp|CapEff|CapBnd|NoNewPrivs):' /proc/self/status";

/** `Key:\tvalue` lines of /proc/self/status, as a map. */
function statusFields(out: string): Map<string, string> {
  return new Map(out.split('\n').filter((l) => l.includes(':\t')).map((l) => {
    const [k, v] = l.split(':\t');
    return [k ?? '', (v ?? '').trim()];
  }));
}

/** One namespace with a confined target pod and a running operator, for a suite. */
interface Fixture {
  ns: Awaited<ReturnType<typeof tempNamespace>>;
  operator: SuiteOperator;
  /** The target's own Seccomp, CapBnd, CapEff, NoNewPrivs, Groups (of its PID 1). */
  targetStatus: Map<string, string>;
}

/**
 * Registers the suite's hooks: the target runs as bob with the runtime's default
 * seccomp profile and without NET_RAW; the operator runs with `operatorArgs`.
 */
function confinedTarget(prefix: string, operatorArgs: string[]): Fixture {
  const fx = {} as Fixture;
  before(async () => {
    requireCluster();
    await installCrds();
    fx.ns = await tempNamespace(prefix);
    await runTargetPod('target', fx.ns.name, { runAsUser: 1001, runAsGroup: 1001, seccompRuntimeDefault: true, dropCapabilities: ['NET_RAW'] });
    fx.targetStatus = statusFields(await kubectlOk(['-n', fx.ns.name, 'exec', 'target', '--', 'sh', '-c', STATUS_LINES.replace('self', '1')]));
    fx.operator = suiteOperator(operatorArgs);
    await fx.operator.start();
  });
  after(async () => {
    // The namespace first: the operator, still running, ends its sessions (an installed one refuses to go while any lives).
    await fx.ns?.remove();
    await fx.operator?.stop();
  });
  return fx;
}

describe('ExecSession lifecycle (runtime backend)', () => {
  const fx = confinedTarget('lifecycle', ['--retention', '1h']);

  it('runs a command as alice with exactly her ids, the container seccomp filter and no capability beyond it', async () => {
    await createSession(fx.ns.name, 'as-alice', { podName: 'target', user: 'alice', tty: false, command: ['sh', '-c', `id; ${STATUS_LINES}`] });
    const { session } = await waitForPhase(fx.ns.name, 'as-alice', ['Succeeded']);
    const out = session.status?.result?.stdout ?? '';
    assert.match(out, /^uid=1000\(alice\) gid=1000\(alice\) groups=1000\(alice\),2000\(ops\)$/m);
    const f = statusFields(out);
    assert.equal(f.get('Groups'), '1000 2000', 'supplementary groups are exactly alice\'s, none of bob\'s');
    assert.equal(f.get('Seccomp'), '2', 'a seccomp filter is in force');
    assert.equal(fx.targetStatus.get('Seccomp'), '2');
    assert.equal(f.get('CapBnd'), fx.targetStatus.get('CapBnd'), 'the bounding set is the container\'s own');
    assert.equal(f.get('CapEff'), '0000000000000000');
    assert.equal(f.get('NoNewPrivs'), fx.targetStatus.get('NoNewPrivs'));
    assert.equal(session.status?.result?.exitCode, 0);
    assert.deepEqual(session.status?.user?.groups, [1000, 2000]);
    assert.equal(session.status?.backend, 'runtime');
    assert.equal(session.status?.runtime, 'containerd');
  });

  it('gives a root session no capability beyond the container\'s bounding set', async () => {
    await createSession(fx.ns.name, 'as-root', { podName: 'target', user: 'root', tty: false, command: ['sh', '-c', STATUS_LINES] });
    const { session } = await waitForPhase(fx.ns.name, 'as-root', ['Succeeded']);
    const f = statusFields(session.status?.result?.stdout ?? '');
    const within = (BigInt(`0x${f.get('CapEff')}`) & ~BigInt(`0x${fx.targetStatus.get('CapBnd')}`)) === 0n;
    assert.ok(within, `CapEff ${f.get('CapEff')} within CapBnd ${fx.targetStatus.get('CapBnd')}`);
    assert.equal(f.get('CapBnd'), fx.targetStatus.get('CapBnd'));
    assert.equal(session.status?.user?.root, true, 'root is marked in status for policy');
  });

  it('resolves users as docker exec -u does', async () => {
    const cases: Array<[string, string]> = [
      ['1000:2000', 'uid=1000(alice) gid=2000(ops) groups=2000(ops)'],
      ['alice:ops', 'uid=1000(alice) gid=2000(ops) groups=2000(ops)'],
      ['1001', 'uid=1001(bob) gid=1001(bob) groups=1001(bob),2000(ops)'],
      ['bob', 'uid=1001(bob) gid=1001(bob) groups=1001(bob),2000(ops)'],
      ['4242', 'uid=4242 gid=0(root) groups=0(root)'],
    ];
    await Promise.all(cases.map(([user], i) => createSession(fx.ns.name, `docker-${i}`, { podName: 'target', user, tty: false, command: ['id'] })));
    for (const [i, [user, expected]] of cases.entries()) {
      const { session } = await waitForPhase(fx.ns.name, `docker-${i}`, ['Succeeded']);
      assert.equal(session.status?.result?.stdout?.trim(), expected, `user ${user}`);
    }
  });

  it('fails an unknown user with a message naming the user and the container', async () => {
    await createSession(fx.ns.name, 'unknown-user', { podName: 'target', user: 'mallory', tty: false, command: ['id'] });
    const { session } = await waitForPhase(fx.ns.name, 'unknown-user', ['Failed']);
    assert.match(session.status?.message ?? '', /"mallory".*not found/);
    assert.match(session.status?.message ?? '', /container "main" of pod .*\/target/);
    assert.equal(session.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'UserNotFound');
  });

  it('fails clearly when the pod or the container does not exist', async () => {
    // A missing pod is refused at admission already; a missing container when the controller looks.
    const noPod = await kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'no-pod', namespace: fx.ns.name }, spec: { podName: 'nosuchpod', user: 'alice' } }) });
    assert.match(noPod.stderr, /PodNotFound: spec\.podName: pod .*\/nosuchpod does not exist/);
    await createSession(fx.ns.name, 'no-container', { podName: 'target', container: 'sidecar', user: 'alice', tty: false, command: ['id'] });
    const noContainer = (await waitForPhase(fx.ns.name, 'no-container', ['Failed'])).session;
    assert.match(noContainer.status?.message ?? '', /no container "sidecar"; its containers are: main/);
  });

  it('records a failing command\'s exit code and output, and Events for each step', async () => {
    await createSession(fx.ns.name, 'exit-3', { podName: 'target', user: 'bob', tty: false, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    const { session } = await waitForPhase(fx.ns.name, 'exit-3', ['Failed']);
    assert.equal(session.status?.result?.exitCode, 3);
    assert.equal(session.status?.result?.stdout, 'out\n');
    assert.equal(session.status?.result?.stderr, 'err\n');
    const events = await kubectlOk(['-n', fx.ns.name, 'get', 'events', '--field-selector', 'involvedObject.name=exit-3', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    assert.deepEqual(events.trim().split('\n').sort(), ['CommandFailed', 'Running', 'Starting']);
  });

  it('expires a live session within a second of expiresAt: processes killed, helper pod gone', async () => {
    await createSession(fx.ns.name, 'expiring', { podName: 'target', user: 'alice', ttl: '20s' });
    const { session } = await waitForPhase(fx.ns.name, 'expiring', ['Ready']);
    await startInSession(session, 'background', ['sh', '-c', 'sleep 1001 & sleep 1002 & wait']);
    await eventually('the session\'s processes to run', async () => (await containerProcesses(fx.ns.name, 'target')).some((p) => p.includes('sleep 1001')));
    const procs = await containerProcesses(fx.ns.name, 'target');
    assert.ok(procs.some((p) => /alice\s+sleep 1002/.test(p)), `runs as alice: ${procs.join(' | ')}`);

    const { session: expired, seenAt } = await waitForPhase(fx.ns.name, 'expiring', ['Expired'], 40_000);
    const late = seenAt - Date.parse(expired.status?.expiresAt ?? '');
    assert.ok(late < 1000 + 200, `Expired ${late} ms after expiresAt (polled every 50 ms)`);
    assert.equal(expired.status?.expiresAt, session.status?.expiresAt, 'expiresAt is written once');
    const after = await containerProcesses(fx.ns.name, 'target');
    assert.ok(!after.some((p) => p.includes('sleep 100')), `no process of the session is left: ${after.join(' | ')}`);
    const helper = session.status?.helperPod?.name ?? '';
    await eventually('the helper pod to be gone', async () => (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pod', helper])).code !== 0, 15_000);
  });

  it('still expires on time after the operator is killed with SIGKILL and restarted', async () => {
    await createSession(fx.ns.name, 'crash', { podName: 'target', user: 'bob', ttl: '25s' });
    const { session } = await waitForPhase(fx.ns.name, 'crash', ['Ready']);
    await startInSession(session, 'background', ['sleep', '1003']);
    await fx.operator.crash();
    // An orphan left by a crash elsewhere: a helper pod whose session does not exist.
    await kubectlOk(['-n', OPERATOR_NAMESPACE, 'run', 'execsession-orphan', `--image=${'execsession.local/helper:dev'}`, '--image-pull-policy=Never', '--restart=Never',
      '--labels=app.kubernetes.io/component=execsession-helper,execsession.dev/session-uid=gone',
      '--annotations=execsession.dev/session-name=gone', '--annotations=execsession.dev/session-namespace=default',
      // A real helper ends on SIGTERM at once; `sleep` as PID 1 ignores it, so keep its grace short.
      '--overrides={"spec":{"terminationGracePeriodSeconds":1}}', '--', 'sleep', '600']);
    await fx.operator.startAgain();
    const { session: expired, seenAt } = await waitForPhase(fx.ns.name, 'crash', ['Expired'], 40_000);
    assert.ok(seenAt - Date.parse(expired.status?.expiresAt ?? '') < 1200, 'Expired on time after the restart');
    assert.ok(!(await containerProcesses(fx.ns.name, 'target')).some((p) => p.includes('sleep 1003')));
    await eventually('no helper pod left', async () => {
      const pods = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/component=execsession-helper', '-o', 'name']);
      return pods.trim() === '';
    }, 30_000);
  });

  it('a session re-created from Git after its notAfter is refused, naming its end time', async () => {
    // What a GitOps repository holds: a session with an absolute end, 15 s from now, and a ttl far longer.
    const notAfter = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    const manifest = JSON.stringify({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'from-git', namespace: fx.ns.name }, spec: { podName: 'target', user: 'alice', ttl: '1h', notAfter } });
    await kubectlOk(['create', '-f', '-'], { input: manifest });
    const { session } = await waitForPhase(fx.ns.name, 'from-git', ['Ready']);
    assert.equal(session.status?.expiresAt, notAfter, 'expiresAt stops at notAfter, not an hour on');
    const { session: ended, seenAt } = await waitForPhase(fx.ns.name, 'from-git', ['Expired'], 40_000);
    assert.ok(seenAt - Date.parse(notAfter) < 1200, `Expired ${seenAt - Date.parse(notAfter)} ms after notAfter`);
    assert.equal(ended.status?.conditions?.find((c) => c.type === 'Expired')?.reason, 'NotAfterPassed');
    // The operator deletes it after --retention; the GitOps tool then applies the same file again:
    // kubectl create, client-side apply (Argo CD's default) and server-side apply (Flux's).
    await kubectlOk(['-n', fx.ns.name, 'delete', 'execsession', 'from-git', '--timeout=30s']);
    for (const verb of [['create'], ['apply'], ['apply', '--server-side', '--field-manager', 'kustomize-controller']]) {
      const again = await kubectl([...verb, '-f', '-'], { input: manifest });
      assert.notEqual(again.code, 0, `${verb.join(' ')} was accepted`);
      assert.match(again.stderr, new RegExp(`spec\\.notAfter: this session ended at ${notAfter} \\(its notAfter; now `), verb.join(' '));
    }
    assert.notEqual((await kubectl(['-n', fx.ns.name, 'get', 'execsession', 'from-git'])).code, 0, 'nothing was created');
  });

  it('ends a live session when it is deleted (finalizer), killing its processes', async () => {
    await createSession(fx.ns.name, 'deleted', { podName: 'target', user: 'alice', ttl: '10m' });
    const { session } = await waitForPhase(fx.ns.name, 'deleted', ['Ready']);
    await startInSession(session, 'background', ['sleep', '1004']);
    await eventually('the session process to run', async () => (await containerProcesses(fx.ns.name, 'target')).some((p) => p.includes('sleep 1004')));
    await kubectlOk(['-n', fx.ns.name, 'delete', 'execsession', 'deleted', '--timeout=30s']);
    assert.ok(!(await containerProcesses(fx.ns.name, 'target')).some((p) => p.includes('sleep 1004')));
    // One read: the helper is gone (nothing printed) or being deleted (a deletionTimestamp).
    const helper = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pod', session.status?.helperPod?.name ?? '', '--ignore-not-found', '-o', 'jsonpath={.metadata.name}:{.metadata.deletionTimestamp}']);
    assert.ok(helper === '' || !helper.endsWith(':'), `the helper pod is neither gone nor being deleted: ${helper}`);
    await assert.rejects(getSession(fx.ns.name, 'deleted'));
  });
});

describe('ExecSession lifecycle (nsenter backend)', () => {
  const fx = confinedTarget('nsenter', ['--backend', 'nsenter']);

  it('runs as alice with exactly her ids, the container\'s bounding set and no_new_privs (no seccomp filter: documented)', async () => {
    await createSession(fx.ns.name, 'as-alice', { podName: 'target', user: 'alice', tty: false, command: ['sh', '-c', `id; ${STATUS_LINES}; echo HOME=$HOME`] });
    const { session } = await waitForPhase(fx.ns.name, 'as-alice', ['Succeeded']);
    const out = session.status?.result?.stdout ?? '';
    assert.equal(session.status?.backend, 'nsenter');
    assert.match(out, /^uid=1000\(alice\) gid=1000\(alice\) groups=1000\(alice\),2000\(ops\)$/m);
    const f = statusFields(out);
    assert.equal(f.get('Groups'), '1000 2000');
    assert.equal(f.get('CapBnd'), fx.targetStatus.get('CapBnd'));
    assert.equal(f.get('CapEff'), '0000000000000000');
    assert.equal(f.get('NoNewPrivs'), '1');
    // What nsenter cannot preserve (docs/exec-backends.md): the container's seccomp filter.
    assert.equal(f.get('Seccomp'), '0');
    assert.match(out, /^HOME=\/home\/alice$/m);
  });

  it('gives root no capability beyond the container\'s bounding set', async () => {
    await createSession(fx.ns.name, 'as-root', { podName: 'target', user: '0', tty: false, command: ['sh', '-c', STATUS_LINES] });
    const f = statusFields((await waitForPhase(fx.ns.name, 'as-root', ['Succeeded'])).session.status?.result?.stdout ?? '');
    assert.equal(f.get('CapEff'), fx.targetStatus.get('CapBnd'));
    assert.equal(f.get('CapBnd'), fx.targetStatus.get('CapBnd'));
  });

  it('attaches a terminal and runs commands through the nsenter backend', async () => {
    await createSession(fx.ns.name, 'shell', { podName: 'target', user: 'alice', ttl: '10m' });
    const { session } = await waitForPhase(fx.ns.name, 'shell', ['Ready']);
    assert.equal(session.status?.backend, 'nsenter');
    await waitForApi();
    const once = await attach(ADMIN_KUBECONFIG, fx.ns.name, 'shell', { command: ['id'], tty: false, stdin: false });
    assert.equal((await once.done).status?.status, 'Success');
    assert.equal(once.stdout().trim(), 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)');
    const term = await attach(ADMIN_KUBECONFIG, fx.ns.name, 'shell', { tty: true });
    term.resize(120, 40);
    term.send('stty size; id -un; exit 3\r');
    const { status } = await term.done;
    assert.match(term.stdout(), /40 120\s+alice/);
    assert.equal(status?.reason, 'NonZeroExitCode');
    assert.equal(status?.details?.causes?.[0]?.message, '3');
  });

  it('kills the session\'s processes at expiry', async () => {
    await createSession(fx.ns.name, 'expiring', { podName: 'target', user: 'bob', ttl: '15s' });
    const { session } = await waitForPhase(fx.ns.name, 'expiring', ['Ready']);
    assert.equal(session.status?.backend, 'nsenter');
    await startInSession(session, 'background', ['sh', '-c', 'sleep 1005 & wait']);
    await eventually('the session process to run', async () => (await containerProcesses(fx.ns.name, 'target')).some((p) => /bob\s+sleep 1005/.test(p)));
    const { session: expired, seenAt } = await waitForPhase(fx.ns.name, 'expiring', ['Expired'], 30_000);
    assert.ok(seenAt - Date.parse(expired.status?.expiresAt ?? '') < 1200);
    assert.ok(!(await containerProcesses(fx.ns.name, 'target')).some((p) => p.includes('sleep 1005')));
  });
});
