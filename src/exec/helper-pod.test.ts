import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANNOTATION_SESSION_NAME, ANNOTATION_SESSION_NAMESPACE, LABEL_COMPONENT, LABEL_SESSION_UID, DEADLINE_GRACE_SECONDS, selfExpiredAt, awaitsHelperRecord,
  type HelperPodInput, escapeForPodSpec, helperPod, helperPodName,
} from './helper-pod.js';
import { HELPER_SCRIPT, helperArgv } from './helper-script.js';
import type { V1Pod } from '@kubernetes/client-node';

/**
 * Kubernetes' expansion of a container's command and args
 * (third_party/forked/golang/expansion): `$$` is `$`, `$(NAME)` is NAME's value
 * when defined and stays as written otherwise; any other `$` is literal.
 */
function k8sExpand(input: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    const next = input[i + 1];
    if (c !== '$' || next === undefined) {
      out += c;
      i++;
    } else if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(' && input.indexOf(')', i + 2) >= 0) {
      const close = input.indexOf(')', i + 2);
      const name = input.slice(i + 2, close);
      out += env.get(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

const NO_ENV = new Map<string, string>();
const SOME_ENV = new Map([['X', 'expanded-x'], ['HOME', '/root'], ['NAME', 'n']]);

describe('k8sExpand (the reference rule used below)', () => {
  const cases: [string, string][] = [
    ['$$', '$'],
    ['$$$', '$$'],
    ['$(X)', 'expanded-x'],
    ['$(UNSET)', '$(UNSET)'],
    ['$$(X)', '$(X)'],
    ['$1 $a', '$1 $a'],
    ['$(X', '$(X'],
    ['end$', 'end$'],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.equal(k8sExpand(input, SOME_ENV), want));
  }
});

describe('escapeForPodSpec', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['plain', 'plain'],
    ['$', '$$'],
    ['$$', '$$$$'],
    ['$(X)', '$$(X)'],
    ['$1', '$$1'],
    ['a$b$c', 'a$$b$$c'],
    ['echo $$ > "$S/serve.pid"', 'echo $$$$ > "$$S/serve.pid"'],
  ];
  for (const [input, want] of cases) {
    it(`doubles every $ in ${JSON.stringify(input)}`, () => assert.deepEqual(escapeForPodSpec([input]), [want]));
  }

  const roundTrips = ['$$', '$(X)', '$1', '$$ and $(X) and $1', '$(HOME)/$$(NAME)$', '$(UNSET) $( $) $$$', 'no dollars', '$'];
  for (const s of roundTrips) {
    for (const [envName, env] of [['no env', NO_ENV], ['with env', SOME_ENV]] as const) {
      it(`${JSON.stringify(s)} arrives verbatim (${envName})`, () => {
        const [escaped] = escapeForPodSpec([s]);
        assert.equal(k8sExpand(escaped ?? '', env), s);
      });
    }
  }

  it('the whole helper argv arrives verbatim', () => {
    const argv = helperArgv('serve', '1714557600', '5');
    assert.deepEqual(escapeForPodSpec(argv).map((a) => k8sExpand(a, SOME_ENV)), argv);
  });

  it('without escaping the script would be corrupted (why escaping is needed)', () => {
    assert.ok(HELPER_SCRIPT.includes('$$'));
    assert.notEqual(k8sExpand(HELPER_SCRIPT, NO_ENV), HELPER_SCRIPT);
  });

  it('keeps the argv length and does not mutate its input', () => {
    const argv = ['a$', '$b', 'c'];
    const out = escapeForPodSpec(argv);
    assert.deepEqual(argv, ['a$', '$b', 'c']);
    assert.equal(out.length, 3);
  });
});

const NOW = new Date('2024-05-01T10:00:00.000Z');

function input(over: Partial<HelperPodInput> = {}): HelperPodInput {
  return {
    session: { name: 'debug-web', namespace: 'team-a', uid: '6f1c2b7e-9d3a-4c55-8e0f-2a1b3c4d5e6f' },
    namespace: 'execsession-system',
    nodeName: 'worker-3',
    image: 'busybox:1.36',
    imagePullPolicy: 'IfNotPresent',
    expiresAt: new Date(NOW.getTime() + 15 * 60_000),
    now: NOW,
    ...over,
  };
}

/** Kubernetes' label value rule (IsValidLabelValue). */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('helperPod manifest', () => {
  const pod = helperPod(input());
  const spec = pod.spec;
  const container = spec?.containers[0];

  it('is a v1 Pod with a deterministic name in the operator namespace', () => {
    assert.equal(pod.apiVersion, 'v1');
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.metadata?.name, 'execsession-6f1c2b7e-9d3a-4c55-8e0f-2a1b3c4d5e6f');
    assert.equal(pod.metadata?.name, helperPodName('6f1c2b7e-9d3a-4c55-8e0f-2a1b3c4d5e6f'));
    assert.equal(pod.metadata?.namespace, 'execsession-system');
    assert.deepEqual(helperPod(input()), pod, 'same input, same manifest');
  });

  it('labels carry the session uid; annotations its full name and namespace', () => {
    assert.deepEqual(pod.metadata?.labels, {
      [LABEL_COMPONENT]: 'execsession-helper',
      [LABEL_SESSION_UID]: '6f1c2b7e-9d3a-4c55-8e0f-2a1b3c4d5e6f',
    });
    assert.deepEqual(pod.metadata?.annotations, {
      [ANNOTATION_SESSION_NAME]: 'debug-web',
      [ANNOTATION_SESSION_NAMESPACE]: 'team-a',
    });
  });

  const fields: [string, unknown, unknown][] = [
    ['nodeName', spec?.nodeName, 'worker-3'],
    ['hostPID', spec?.hostPID, true],
    ['automountServiceAccountToken', spec?.automountServiceAccountToken, false],
    ['enableServiceLinks', spec?.enableServiceLinks, false],
    ['restartPolicy', spec?.restartPolicy, 'Never'],
    ['hostNetwork', spec?.hostNetwork, undefined],
    ['tolerations', spec?.tolerations, [{ operator: 'Exists' }]],
    ['one container', spec?.containers.length, 1],
    ['image', container?.image, 'busybox:1.36'],
    ['imagePullPolicy', container?.imagePullPolicy, 'IfNotPresent'],
    ['privileged', container?.securityContext, { privileged: true }],
    ['host mount', container?.volumeMounts, [{ name: 'host', mountPath: '/host' }]],
    ['hostPath /', spec?.volumes, [{ name: 'host', hostPath: { path: '/', type: 'Directory' } }]],
    ['termination message from file', container?.terminationMessagePolicy, 'File'],
  ];
  for (const [name, got, want] of fields) {
    it(name, () => assert.deepEqual(got, want));
  }

  it('runs the escaped helper serve command until expiry, with no grace', () => {
    const expiresEpoch = String(Math.ceil(input().expiresAt.getTime() / 1000));
    assert.deepEqual(container?.command, escapeForPodSpec(helperArgv('serve', expiresEpoch)));
    assert.deepEqual(container?.command?.map((a) => k8sExpand(a, NO_ENV)), helperArgv('serve', expiresEpoch));
    assert.equal(container?.args, undefined);
  });

  it('other inputs are used as given', () => {
    const p = helperPod(input({ nodeName: 'n2', image: 'registry.local/busybox@sha256:abc', imagePullPolicy: 'Always', namespace: 'ops' }));
    assert.equal(p.spec?.nodeName, 'n2');
    assert.equal(p.spec?.containers[0]?.image, 'registry.local/busybox@sha256:abc');
    assert.equal(p.spec?.containers[0]?.imagePullPolicy, 'Always');
    assert.equal(p.metadata?.namespace, 'ops');
  });
});

describe('helperPod deadline and expiry', () => {
  const cases: [string, number][] = [
    ['15 minutes', 15 * 60_000],
    ['7 days', 7 * 24 * 3_600_000],
    ['1.5 s', 1_500],
    ['1 ms', 1],
    ['already expired', -10_000],
    ['exactly now', 0],
  ];
  for (const [name, ms] of cases) {
    it(name, () => {
      const expiresAt = new Date(NOW.getTime() + ms);
      const p = helperPod(input({ expiresAt }));
      const deadline = p.spec?.activeDeadlineSeconds ?? 0;
      assert.ok(Number.isInteger(deadline) && deadline > 0);
      assert.ok(deadline >= Math.ceil(ms / 1000), `deadline ${deadline}s before the session's remaining ${ms}ms`);
      assert.ok(NOW.getTime() + deadline * 1000 >= expiresAt.getTime() + DEADLINE_GRACE_SECONDS * 1000,
        'the kubelet does not kill the helper before it ends the session by itself');
      assert.ok(deadline <= Math.max(1, Math.ceil(ms / 1000)) + DEADLINE_GRACE_SECONDS, 'the kubelet\'s backstop is no later than needed');
      const epoch = Number(p.spec?.containers[0]?.command?.at(-1));
      assert.equal(epoch, Math.ceil(expiresAt.getTime() / 1000));
      assert.ok(epoch * 1000 >= expiresAt.getTime(), 'the helper never ends a session early');
    });
  }

  it('expiry with milliseconds rounds the epoch up', () => {
    const p = helperPod(input({ expiresAt: new Date('2024-05-01T10:15:00.001Z') }));
    assert.equal(p.spec?.containers[0]?.command?.at(-1), String(Date.parse('2024-05-01T10:15:01Z') / 1000));
  });
});

describe('helperPod labels are valid label values', () => {
  const names: [string, string][] = [
    ['short name', 'debug-web'],
    ['name with dots', 'debug.web.1'],
    ['63 characters', 'a'.repeat(63)],
    ['longer than 63', 's'.repeat(100)],
    // Names longer than a label value allows once broke the helper pod (a cut ending in '-').
    ['longer than 63, cut at a dash', `${'a'.repeat(62)}-debug-session`],
    ['longer than 63, cut at a dot', `${'a'.repeat(62)}.example.com`],
  ];
  for (const [name, sessionName] of names) {
    it(name, () => {
      const p = helperPod(input({ session: { name: sessionName, namespace: 'team-a', uid: 'u-1' } }));
      for (const [k, v] of Object.entries(p.metadata?.labels ?? {})) {
        assert.ok(v.length <= 63, `${k} too long`);
        assert.match(v, LABEL_VALUE, `${k}=${JSON.stringify(v)} is not a valid label value`);
      }
      assert.equal(p.metadata?.annotations?.[ANNOTATION_SESSION_NAME], sessionName, 'the full name is kept');
    });
  }
});

describe('selfExpiredAt: the kubelet\'s record of the helper ending a session at its expiry', () => {
  const finishedAt = new Date('2026-12-06T09:00:00Z');
  const pod = (terminated: Record<string, unknown> | undefined, name = 'helper'): V1Pod => ({
    status: { containerStatuses: [{ name, state: terminated ? { terminated } : { running: {} } } as never] },
  });
  const at = (ms: number): Date => new Date(finishedAt.getTime() + ms);
  const cases: [string, V1Pod | undefined, Date | undefined][] = [
    ['ended at expiry: its deadline, the poll and the clean-up\'s 0.31 s', pod({ exitCode: 0, message: 'expired 1796547600\nkilled 2\nuptime 5000.10 5000.41\n', finishedAt }), at(510)],
    ['without the helper\'s record: the last millisecond of the kubelet\'s second', pod({ exitCode: 0, message: 'expired 1796547600\nkilled 2\n', finishedAt }), at(999)],
    ['a record past the kubelet\'s second: that second\'s last millisecond', pod({ exitCode: 0, message: 'expired 1796547600\nuptime 10.00 12.50\n', finishedAt }), at(999)],
    ['a record before the kubelet\'s second (an older deadline): the second itself', pod({ exitCode: 0, message: 'expired 1796547590\nuptime 10.00 10.20\n', finishedAt }), finishedAt],
    ['uptime going backwards: not believed', pod({ exitCode: 0, message: 'expired 1796547600\nuptime 10.50 10.20\n', finishedAt }), at(999)],
    ['no pod', undefined, undefined],
    ['still running', pod(undefined), undefined],
    ['killed by SIGTERM (deleted): no message', pod({ exitCode: 0, message: '', finishedAt }), undefined],
    ['failed', pod({ exitCode: 137, message: 'expired 1796547600\n', finishedAt }), undefined],
    ['another container', pod({ exitCode: 0, message: 'expired 1796547600\n', finishedAt }, 'other'), undefined],
    ['a message that only contains the word', pod({ exitCode: 0, message: 'not expired 1\n', finishedAt }), undefined],
    ['no finishedAt', pod({ exitCode: 0, message: 'expired 1796547600\n' }), undefined],
  ];
  for (const [name, p, want] of cases) it(name, () => assert.deepEqual(selfExpiredAt(p), want));
});

describe('awaitsHelperRecord: a late expiry waits for the kubelet\'s record of the helper\'s own end', () => {
  const expires = Date.parse('2026-12-06T09:00:00Z');
  const running: V1Pod = { metadata: {}, status: { phase: 'Running', containerStatuses: [{ name: 'helper', state: { running: {} } } as never] } };
  const cases: [string, V1Pod | undefined, number | undefined, number, boolean][] = [
    ['1.5 s late, shown running: waits', running, expires, expires + 1_500, true],
    ['0.5 s late exactly: waits', running, expires, expires + 500, true],
    ['on time (0.4 s): no wait, now is within the promise', running, expires, expires + 400, false],
    ['no pod: nothing to wait for', undefined, expires, expires + 5_000, false],
    ['no expiresAt: not an expiry', running, undefined, expires + 5_000, false],
    ['deleted: its SIGTERM end is not an expiry record', { ...running, metadata: { deletionTimestamp: new Date() } }, expires, expires + 1_500, false],
    ['finished: the record is there (or never will be)', { ...running, status: { ...running.status, phase: 'Succeeded' } }, expires, expires + 1_500, false],
    ['container terminated, pod phase not yet updated', { metadata: {}, status: { phase: 'Running', containerStatuses: [{ name: 'helper', state: { terminated: { exitCode: 0 } } } as never] } }, expires, expires + 1_500, false],
  ];
  for (const [name, p, e, now, want] of cases) it(name, () => assert.equal(awaitsHelperRecord(p, e, now), want));
});
