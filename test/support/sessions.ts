/** ExecSessions in tests: create them, watch their phase, and act inside them. */
import { isTerminalPhase, type ExecSession, type ExecSessionSpec, type Phase } from '../../src/api/types.js';
import { HelperClient, CONTAINERD_PATHS } from '../../src/exec/helper-client.js';
import { jobFor } from '../../src/exec/backend.js';
import { KubeClient } from '../../src/k8s/kube.js';
import { eventually, kubeConfig, kubectlOk } from '../../tools/support/cluster.js';

/** Creates an ExecSession as admin (or as the given kubeconfig's identity). */
export async function createSession(namespace: string, name: string, spec: ExecSessionSpec, kubeconfig?: string): Promise<void> {
  const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec };
  await kubectlOk(['create', '-f', '-'], { input: JSON.stringify(body), kubeconfig });
}

/** The session as the API server has it now. */
export async function getSession(namespace: string, name: string): Promise<ExecSession> {
  return JSON.parse(await kubectlOk(['-n', namespace, 'get', 'execsession', name, '-o', 'json'])) as ExecSession;
}

/** Waits for one of the phases; returns the session and when the phase was first seen. Fails at once on another end. */
export async function waitForPhase(namespace: string, name: string, phases: Phase[], timeoutMs = 60_000): Promise<{ session: ExecSession; seenAt: number }> {
  const kube = new KubeClient(kubeConfig());
  const session = await eventually(`ExecSession ${namespace}/${name} to reach ${phases.join(' or ')}`, async () => {
    const s = await kube.getSession(namespace, name);
    // A session that ended otherwise will never reach the phase: stop waiting.
    return s?.status?.phase && (phases.includes(s.status.phase) || isTerminalPhase(s.status.phase)) ? s : undefined;
  }, timeoutMs, 50);
  const phase = session?.status?.phase;
  if (!session || !phase || !phases.includes(phase)) {
    throw new Error(`ExecSession ${namespace}/${name} ended ${phase}: ${session?.status?.message ?? ''}`);
  }
  return { session, seenAt: Date.now() };
}

/**
 * Starts a process inside a live session, exactly as an attach does: the
 * container's own process spec with the session's resolved user, in the
 * session's sub-cgroup, through its helper pod.
 */
export async function startInSession(s: ExecSession, job: string, command: string[]): Promise<void> {
  const ref = s.status?.helperPod;
  const user = s.status?.user;
  if (!ref || !user) throw new Error('the session has no helper or user yet');
  const helpers = new HelperClient(new KubeClient(kubeConfig()), CONTAINERD_PATHS);
  const inspection = await helpers.inspect(ref, s.status?.containerID ?? '');
  const resolved = { uid: user.uid, gid: user.gid, groups: user.groups ?? [], name: user.name, home: user.home ?? '/', shell: user.shell, root: user.root ?? false, rootGroup: user.rootGroup ?? false };
  const cmd = { backend: s.status?.backend ?? 'runtime', inspection, user: resolved, command, tty: false, containerID: s.status?.containerID ?? '', sessionUid: s.metadata.uid ?? '' };
  await helpers.startJob(ref, jobFor(cmd, job, 4096));
}

/** The processes in a container, as `ps` inside it shows them (pid, user, args). */
export async function containerProcesses(namespace: string, pod: string, container?: string): Promise<string[]> {
  const out = await kubectlOk(['-n', namespace, 'exec', pod, ...(container ? ['-c', container] : []), '--', 'ps', '-o', 'pid,user,args']);
  return out.trim().split('\n').slice(1).map((l) => l.trim());
}
