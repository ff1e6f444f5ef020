/**
 * The controller's decisions, as pure functions of what was observed and the
 * time. The reconciler gathers, calls these, acts, and reports.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { Reason, type ReasonName } from '../api/conditions.js';
import { chooseContainer } from '../api/container.js';
import { parseDuration } from '../api/duration.js';
import type { ExecSessionSpec } from '../api/types.js';
import { UserSpecError, parseUserSpec } from '../api/user-spec.js';

/** The session cannot go on: it ends Failed with this reason and message. */
export interface Fail {
  kind: 'fail';
  reason: ReasonName;
  message: string;
}

/** Nothing to do yet: look again later. */
export interface Wait {
  kind: 'wait';
  reason: ReasonName;
  message: string;
  afterMs: number;
}

/** Where the session will run. */
export interface Target {
  kind: 'target';
  container: string;
  containerID: string;
  runtime: string;
  node: string;
}

/** Checks the spec fields the API schema cannot (format of user, ttl); an unset ttl is src/lifetime's to decide. */
export function validateSpec(spec: ExecSessionSpec): Fail | { kind: 'ok' } {
  try {
    parseUserSpec(spec.user);
  } catch (e) {
    if (e instanceof UserSpecError) return { kind: 'fail', reason: Reason.InvalidSpec, message: `spec.user: ${e.message}` };
    throw e;
  }
  try {
    if (spec.ttl !== undefined) parseDuration(spec.ttl);
    return { kind: 'ok' };
  } catch (e) {
    return { kind: 'fail', reason: Reason.InvalidSpec, message: `spec.ttl: ${(e as Error).message}` };
  }
}

function nodeReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function noContainer(where: string, container: string | undefined, names: string[]): Fail {
  return { kind: 'fail', reason: Reason.ContainerNotFound, message: `${where} has no container "${container ?? ''}"; its containers are: ${names.join(', ')}` };
}

function podEnded(where: string, phase: string): Fail {
  return { kind: 'fail', reason: Reason.PodNotRunning, message: `${where} has ended (phase ${phase}); sessions can only enter running containers` };
}

type ContainerStatus = NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number];

/** The named container and its status, or why the pod has no usable one. */
function targetContainer(spec: ExecSessionSpec, pod: V1Pod, where: string): Fail | Wait | { kind: 'ok'; container: string; status: ContainerStatus } {
  const container = chooseContainer(spec, pod);
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (!container || !names.includes(container)) return noContainer(where, container, names);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return podEnded(where, phase);
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  if (phase === 'Running' && status?.state?.running && status.containerID) return { kind: 'ok', container, status };
  const now = status?.state?.waiting?.reason ?? phase ?? 'Pending';
  return { kind: 'wait', reason: Reason.PodNotRunning, message: `waiting for container "${container}" of ${where} to run (now: ${now})`, afterMs: 2000 };
}

/**
 * Decides whether the session can start on its target pod. A pod that is still
 * starting is waited for; anything that will not get better fails with a message
 * that says what to do.
 */
export function decideTarget(spec: ExecSessionSpec, namespace: string, pod: V1Pod | undefined, node: V1Node | undefined): Fail | Wait | Target {
  const v = validateSpec(spec);
  if (v.kind === 'fail') return v;
  const where = `pod ${namespace}/${spec.podName}`;
  if (!pod) return { kind: 'fail', reason: Reason.PodNotFound, message: `${where} does not exist; create the ExecSession in the pod's namespace with spec.podName set to a running pod` };
  const t = targetContainer(spec, pod, where);
  if (t.kind !== 'ok') return t;
  const nodeName = pod.spec?.nodeName ?? '';
  if (!nodeReady(node)) {
    return { kind: 'fail', reason: Reason.NodeNotReady, message: `node ${nodeName} of ${where} is not Ready; wait for the node to recover or target a pod on another node` };
  }
  const [runtime = 'unknown', containerID = ''] = (t.status.containerID ?? '').split('://');
  return { kind: 'target', container: t.container, containerID, runtime, node: nodeName };
}

/** Container waiting reasons after which a helper will not start by itself. */
const HELPER_STUCK = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'];

/** Why a helper pod will never run, if it will not. */
function helperBroken(helper: V1Pod, name: string): Fail | undefined {
  const status = helper.status?.containerStatuses?.[0];
  const phase = helper.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    const term = status?.state?.terminated;
    const detail = term?.message ? `: ${term.message.trim()}` : '';
    return { kind: 'fail', reason: Reason.HelperRejected, message: `${name} ended before the session started (${term?.reason ?? phase}${detail})` };
  }
  const unschedulable = helper.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable) return { kind: 'fail', reason: Reason.HelperUnschedulable, message: `${name} cannot be scheduled: ${unschedulable.message ?? ''}` };
  return helperStuck(status, name);
}

/** A helper container that waits for a reason that will not pass by itself. */
function helperStuck(status: ContainerStatus | undefined, name: string): Fail | undefined {
  const waiting = status?.state?.waiting;
  if (!waiting?.reason || !HELPER_STUCK.includes(waiting.reason)) return undefined;
  return { kind: 'fail', reason: Reason.HelperRejected, message: `${name} cannot start its container (${waiting.reason}: ${waiting.message ?? ''}); check the operator's --helper-image and that nodes can pull it` };
}

/** Decides from the helper pod's state whether it is usable. */
export function decideHelper(helper: V1Pod, startedMs: number, now: Date, startTimeoutMs: number): Fail | Wait | { kind: 'running' } {
  const name = `helper pod ${helper.metadata?.namespace}/${helper.metadata?.name}`;
  if (helper.status?.phase === 'Running' && helper.status.containerStatuses?.[0]?.state?.running) return { kind: 'running' };
  const broken = helperBroken(helper, name);
  if (broken) return broken;
  const state = helper.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? helper.status?.phase ?? 'Pending';
  if (now.getTime() - startedMs > startTimeoutMs) {
    return { kind: 'fail', reason: Reason.HelperUnschedulable, message: `${name} did not start within ${Math.round(startTimeoutMs / 1000)}s (last state: ${state})` };
  }
  return { kind: 'wait', reason: Reason.HelperStarting, message: `waiting for ${name} to run (${state})`, afterMs: 1000 };
}
