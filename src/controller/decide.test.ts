import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1Node, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { ExecSessionSpec } from '../api/types.js';
import { decideHelper, decideTarget, validateSpec } from './decide.js';

const NS = 'team-a';

function spec(over: Partial<ExecSessionSpec> = {}): ExecSessionSpec {
  return { podName: 'web-0', user: '1000', ...over };
}

interface PodOpts {
  containers?: string[];
  annotations?: Record<string, string>;
  phase?: string;
  statuses?: V1ContainerStatus[];
  nodeName?: string;
}

function running(name: string, containerID = 'containerd://abc'): V1ContainerStatus {
  return { name, image: 'img', imageID: '', ready: true, restartCount: 0, containerID, state: { running: { startedAt: new Date(0) } } };
}

function waiting(name: string, reason: string, message?: string): V1ContainerStatus {
  return { name, image: 'img', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } };
}

function pod(o: PodOpts = {}): V1Pod {
  const containers = o.containers ?? ['app', 'sidecar'];
  return {
    metadata: { name: 'web-0', namespace: NS, annotations: o.annotations },
    spec: { nodeName: o.nodeName ?? 'node-1', containers: containers.map((name) => ({ name, image: 'img' })) },
    status: { phase: o.phase ?? 'Running', containerStatuses: o.statuses ?? containers.map((c) => running(c)) },
  };
}

function node(ready: 'True' | 'False' | 'Unknown' | 'none'): V1Node {
  const conditions = ready === 'none' ? [] : [
    { type: 'MemoryPressure', status: 'False' },
    { type: 'Ready', status: ready },
  ];
  return { metadata: { name: 'node-1' }, status: { conditions } };
}

describe('validateSpec', () => {
  const ok: [string, Partial<ExecSessionSpec>][] = [
    ['no ttl (src/lifetime decides it)', {}],
    ['explicit ttl', { ttl: '1h30m' }],
    ['named user with group', { user: 'alice:ops', ttl: '30s' }],
  ];
  for (const [name, over] of ok) {
    it(`ok: ${name}`, () => assert.deepEqual(validateSpec(spec(over)), { kind: 'ok' }));
  }
  const bad: [string, Partial<ExecSessionSpec>, RegExp][] = [
    ['empty user', { user: '' }, /^spec\.user: invalid user spec "": it is empty/],
    ['negative uid', { user: '-1' }, /^spec\.user: .*negative/],
    ['too many colons', { user: 'a:b:c' }, /^spec\.user: .*more than one ":"/],
    ['ttl without unit', { ttl: '15' }, /^spec\.ttl: invalid duration "15"/],
    ['zero ttl', { ttl: '0s' }, /^spec\.ttl: .*more than zero/],
    ['ttl over 7 days', { ttl: '169h' }, /^spec\.ttl: .*at most 168h/],
    ['bad user wins over bad ttl', { user: '', ttl: 'x' }, /^spec\.user:/],
  ];
  for (const [name, over, message] of bad) {
    it(`fail: ${name}`, () => {
      const r = validateSpec(spec(over));
      assert.equal(r.kind, 'fail');
      assert.ok(r.kind === 'fail');
      assert.equal(r.reason, 'InvalidSpec');
      assert.match(r.message, message);
    });
  }
});

describe('decideTarget fails', () => {
  const cases: [string, Partial<ExecSessionSpec>, V1Pod | undefined, V1Node | undefined, string, RegExp][] = [
    ['invalid user', { user: 'a b' }, pod(), node('True'), 'InvalidSpec', /^spec\.user: .*whitespace/],
    ['invalid ttl', { ttl: '1d' }, pod(), node('True'), 'InvalidSpec', /^spec\.ttl: invalid duration "1d"/],
    ['invalid spec checked before the pod', { ttl: 'nope' }, undefined, undefined, 'InvalidSpec', /spec\.ttl/],
    ['pod missing', {}, undefined, node('True'), 'PodNotFound', /^pod team-a\/web-0 does not exist/],
    ['unknown spec.container', { container: 'db' }, pod(), node('True'), 'ContainerNotFound',
      /^pod team-a\/web-0 has no container "db"; its containers are: app, sidecar$/],
    ['annotation naming a missing container', {}, pod({ annotations: { 'kubectl.kubernetes.io/default-container': 'gone' } }), node('True'),
      'ContainerNotFound', /no container "gone"; its containers are: app, sidecar$/],
    ['pod without containers', {}, pod({ containers: [] }), node('True'), 'ContainerNotFound', /no container ""; its containers are: $/],
    ['pod Succeeded', {}, pod({ phase: 'Succeeded' }), node('True'), 'PodNotRunning', /has ended \(phase Succeeded\)/],
    ['pod Failed', {}, pod({ phase: 'Failed' }), node('True'), 'PodNotRunning', /has ended \(phase Failed\); sessions can only enter running containers/],
    ['node NotReady', {}, pod(), node('False'), 'NodeNotReady', /^node node-1 of pod team-a\/web-0 is not Ready/],
    ['node Ready Unknown', {}, pod(), node('Unknown'), 'NodeNotReady', /node node-1/],
    ['node without conditions', {}, pod(), node('none'), 'NodeNotReady', /not Ready/],
    ['node missing', {}, pod(), undefined, 'NodeNotReady', /not Ready/],
  ];
  for (const [name, over, p, n, reason, message] of cases) {
    it(name, () => {
      const r = decideTarget(spec(over), NS, p, n);
      assert.equal(r.kind, 'fail', JSON.stringify(r));
      assert.ok(r.kind === 'fail');
      assert.equal(r.reason, reason);
      assert.match(r.message, message);
    });
  }
});

describe('decideTarget waits', () => {
  const cases: [string, V1Pod, RegExp][] = [
    ['pod Pending without statuses', pod({ phase: 'Pending', statuses: [] }), /container "app" of pod team-a\/web-0 to run \(now: Pending\)/],
    ['pod Pending, container creating', pod({ phase: 'Pending', statuses: [waiting('app', 'ContainerCreating')] }), /\(now: ContainerCreating\)/],
    ['pod Running, container waiting', pod({ statuses: [waiting('app', 'CrashLoopBackOff')] }), /\(now: CrashLoopBackOff\)/],
    ['pod Running, container status missing', pod({ statuses: [running('sidecar')] }), /\(now: Running\)/],
    ['running without containerID', pod({ statuses: [running('app', '')] }), /\(now: Running\)/],
    ['no status at all', { ...pod(), status: undefined }, /\(now: Pending\)/],
  ];
  for (const [name, p, message] of cases) {
    it(name, () => {
      const r = decideTarget(spec(), NS, p, node('True'));
      assert.equal(r.kind, 'wait', JSON.stringify(r));
      assert.ok(r.kind === 'wait');
      assert.equal(r.reason, 'PodNotRunning');
      assert.match(r.message, message);
      assert.ok(r.afterMs > 0);
    });
  }

  it('waits for a pending pod even on a node that is not Ready', () => {
    assert.equal(decideTarget(spec(), NS, pod({ phase: 'Pending', statuses: [] }), node('False')).kind, 'wait');
  });
});

describe('decideTarget targets', () => {
  it('splits runtime and container ID and carries the node', () => {
    const r = decideTarget(spec({ ttl: '1h' }), NS, pod({ nodeName: 'worker-7' }), node('True'));
    assert.deepEqual(r, { kind: 'target', container: 'app', containerID: 'abc', runtime: 'containerd', node: 'worker-7' });
  });

  const cases: [string, Partial<ExecSessionSpec>, V1Pod, { container: string; containerID: string; runtime: string }][] = [
    ['spec.container', { container: 'sidecar' }, pod({ statuses: [running('app', 'containerd://aaa'), running('sidecar', 'containerd://bbb')] }),
      { container: 'sidecar', containerID: 'bbb', runtime: 'containerd' }],
    ['default-container annotation', {}, pod({ annotations: { 'kubectl.kubernetes.io/default-container': 'sidecar' },
      statuses: [running('app', 'containerd://aaa'), running('sidecar', 'containerd://bbb')] }),
    { container: 'sidecar', containerID: 'bbb', runtime: 'containerd' }],
    ['cri-o runtime', {}, pod({ statuses: [running('app', 'cri-o://0123ef')] }), { container: 'app', containerID: '0123ef', runtime: 'cri-o' }],
    ['other container waiting does not matter', {}, pod({ statuses: [running('app'), waiting('sidecar', 'CrashLoopBackOff')] }),
      { container: 'app', containerID: 'abc', runtime: 'containerd' }],
  ];
  for (const [name, over, p, want] of cases) {
    it(name, () => {
      const r = decideTarget(spec(over), NS, p, node('True'));
      assert.equal(r.kind, 'target', JSON.stringify(r));
      assert.ok(r.kind === 'target');
      assert.deepEqual({ container: r.container, containerID: r.containerID, runtime: r.runtime }, want);
    });
  }
});

function helper(phase: string | undefined, status?: V1ContainerStatus, conditions?: V1PodCondition[]): V1Pod {
  return {
    metadata: { name: 'execsession-u1', namespace: 'execsession-system' },
    status: { phase, containerStatuses: status ? [status] : undefined, conditions },
  };
}

function terminated(reason: string | undefined, message?: string, exitCode = 2): V1ContainerStatus {
  return { name: 'helper', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason, message } } };
}

describe('decideHelper', () => {
  const T0 = Date.parse('2024-05-01T10:00:00Z');
  const soon = new Date(T0 + 5_000);
  const late = new Date(T0 + 120_001);
  const TIMEOUT = 120_000;
  const NAME = 'helper pod execsession-system/execsession-u1';
  const unschedulable: V1PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: node(s) had taints' };

  const cases: [string, V1Pod, Date, { kind: string; reason?: string; message?: RegExp }][] = [
    ['running', helper('Running', running('helper')), soon, { kind: 'running' }],
    ['running even past the start timeout', helper('Running', running('helper')), late, { kind: 'running' }],
    ['Failed with termination message', helper('Failed', terminated('Error', '  execsession-helper: bad container id\n')), soon,
      { kind: 'fail', reason: 'HelperRejected', message: new RegExp(`^${NAME} ended before the session started \\(Error: execsession-helper: bad container id\\)$`) }],
    ['Succeeded without message', helper('Succeeded', terminated('Completed', undefined, 0)), soon,
      { kind: 'fail', reason: 'HelperRejected', message: /ended before the session started \(Completed\)$/ }],
    ['Failed without container status', helper('Failed'), soon,
      { kind: 'fail', reason: 'HelperRejected', message: /ended before the session started \(Failed\)$/ }],
    ['Failed by deadline', { ...helper('Failed'), status: { phase: 'Failed', reason: 'DeadlineExceeded' } }, soon,
      { kind: 'fail', reason: 'HelperRejected' }],
    ['Unschedulable', helper('Pending', undefined, [unschedulable]), soon,
      { kind: 'fail', reason: 'HelperUnschedulable', message: new RegExp(`^${NAME} cannot be scheduled: 0/3 nodes are available: node\\(s\\) had taints$`) }],
    ['PodScheduled False for another reason waits', helper('Pending', undefined, [{ ...unschedulable, reason: 'SchedulerError' }]), soon,
      { kind: 'wait', reason: 'HelperStarting' }],
    ['ErrImagePull', helper('Pending', waiting('helper', 'ErrImagePull', 'pull access denied')), soon,
      { kind: 'fail', reason: 'HelperRejected', message: /cannot start its container \(ErrImagePull: pull access denied\); check the operator's --helper-image/ }],
    ['ImagePullBackOff', helper('Pending', waiting('helper', 'ImagePullBackOff', 'Back-off pulling image "nope"')), soon,
      { kind: 'fail', reason: 'HelperRejected', message: /\(ImagePullBackOff: Back-off pulling image "nope"\)/ }],
    ['CreateContainerConfigError', helper('Pending', waiting('helper', 'CreateContainerConfigError')), soon,
      { kind: 'fail', reason: 'HelperRejected', message: /\(CreateContainerConfigError: \)/ }],
    ['ContainerCreating waits', helper('Pending', waiting('helper', 'ContainerCreating')), soon,
      { kind: 'wait', reason: 'HelperStarting', message: new RegExp(`^waiting for ${NAME} to run \\(ContainerCreating\\)$`) }],
    ['Pending without status waits', helper('Pending'), soon, { kind: 'wait', reason: 'HelperStarting', message: /\(Pending\)$/ }],
    ['no phase waits as Pending', helper(undefined), soon, { kind: 'wait', reason: 'HelperStarting', message: /\(Pending\)$/ }],
    ['Running phase, container not yet running, waits', helper('Running', waiting('helper', 'ContainerCreating')), soon,
      { kind: 'wait', reason: 'HelperStarting' }],
    ['start timeout', helper('Pending', waiting('helper', 'ContainerCreating')), late,
      { kind: 'fail', reason: 'HelperUnschedulable', message: new RegExp(`^${NAME} did not start within 120s \\(last state: ContainerCreating\\)$`) }],
    ['exactly at the timeout still waits', helper('Pending'), new Date(T0 + TIMEOUT), { kind: 'wait', reason: 'HelperStarting' }],
    ['image error reported before timeout', helper('Pending', waiting('helper', 'ErrImagePull', 'x')), late,
      { kind: 'fail', reason: 'HelperRejected', message: /ErrImagePull/ }],
    ['unschedulable reported before timeout', helper('Pending', undefined, [unschedulable]), late,
      { kind: 'fail', reason: 'HelperUnschedulable', message: /cannot be scheduled/ }],
  ];
  for (const [name, h, now, want] of cases) {
    it(name, () => {
      const r = decideHelper(h, T0, now, TIMEOUT);
      assert.equal(r.kind, want.kind, JSON.stringify(r));
      if (r.kind === 'running') return;
      assert.equal(r.reason, want.reason);
      if (want.message) assert.match(r.message, want.message);
      if (r.kind === 'wait') assert.equal(r.afterMs, 1000);
    });
  }
});
