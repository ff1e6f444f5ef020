/**
 * Drives a session's helper pod through the exec API: inspect the target,
 * prepare its sub-cgroup, start and wait for non-interactive jobs, and end
 * everything the session started.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../k8s/kube.js';
import { helperArgv } from './helper-script.js';
import { interpretInspection, type Inspection } from './inspect.js';
import type { OciProcess } from './process-spec.js';
import { parseSections, text } from './sections.js';
import type { JobFile } from '../recording/job-cast.js';

/** Where the node's container runtime keeps its state; defaults are containerd's for Kubernetes. */
export interface RuntimePaths {
  /** The OCI config of a container, `{id}` standing for its ID. */
  configPath: string;
  /** runc's --root for the runtime's containers. */
  runcRoot: string;
}

export const CONTAINERD_PATHS: RuntimePaths = {
  configPath: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json',
  runcRoot: '/run/containerd/runc/k8s.io',
};

/** A finished non-interactive job. */
export interface JobResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** Bytes of stdout and of stderr past what the helper kept (JobStart.limit): not in the recording either. */
  beyondKept?: { stdout: number; stderr: number };
}

/** A non-interactive job to start in the target container, through either backend. */
export type JobStart = {
  name: string;
  /** Bytes of stdout and of stderr the helper keeps (for the recording; status.result takes the first --output-limit). */
  limit: number;
} & (
  | { backend: 'runtime'; spec: OciProcess; containerID: string; sessionUid: string }
  | { backend: 'nsenter'; args: string[] }
);

/** The helper pod of one session. */
export interface HelperRef {
  namespace: string;
  name: string;
}

/** The session's sub-cgroup name under each of the container's cgroups. */
export function subCgroup(sessionUid: string): string {
  return `execsession-${sessionUid}`;
}

/** Container IDs are hex; anything else is refused before it reaches a path. */
function checkContainerId(id: string): string {
  if (!/^[0-9a-f]{12,128}$/.test(id)) throw new Error(`unexpected container ID "${id}"`);
  return id;
}

export class HelperClient {
  constructor(private readonly kube: Kube, private readonly paths: RuntimePaths, private readonly timeoutMs = 30_000) {}

  private async run(h: HelperRef, sub: string, args: string[], timeoutMs = this.timeoutMs): Promise<Buffer> {
    const r = await this.kube.exec(h.namespace, h.name, 'helper', helperArgv(sub, ...args), timeoutMs);
    if (r.exitCode !== 0) throw new Error(`helper ${sub} failed (exit ${r.exitCode}): ${r.stderr.toString().trim() || r.stdout.toString().trim()}`);
    return r.stdout;
  }

  /**
   * What the target container is, as seen from its node. With a session uid, the
   * session's sub-cgroups are prepared in the same exec (they stay empty, and are
   * removed at clean-up, if the session never runs anything).
   */
  async inspect(h: HelperRef, containerID: string, sessionUid?: string): Promise<Inspection> {
    const id = checkContainerId(containerID);
    const args = [id, this.paths.configPath.replace('{id}', id), this.paths.runcRoot, ...(sessionUid ? [subCgroup(sessionUid)] : [])];
    return interpretInspection(parseSections(await this.run(h, 'inspect', args)));
  }


  /** Starts a job once (a second call with the same name does nothing). */
  async startJob(h: HelperRef, job: JobStart): Promise<void> {
    await this.run(h, 'start', this.startArgs(job));
  }

  /** The helper argv that starts a job (for checking its size before it runs). */
  startArgv(job: JobStart): string[] {
    return helperArgv('start', ...this.startArgs(job));
  }

  private startArgs(job: JobStart): string[] {
    return [job.name, String(job.limit), job.backend, ...this.processArgs(job)];
  }

  /** SPEC ARGS... of the helper's start and attach: what run_runtime or run_nsenter take. */
  private processArgs(job: JobStart): string[] {
    return job.backend === 'runtime'
      ? [JSON.stringify(job.spec), checkContainerId(job.containerID), this.paths.runcRoot, subCgroup(job.sessionUid)]
      : ['{}', ...job.args];
  }

  /** Waits up to `seconds` for a job; undefined while it still runs. `limit`: bytes of each stream in the result. */
  async waitJob(h: HelperRef, job: string, seconds: number, limit: number): Promise<JobResult | undefined> {
    const s = parseSections(await this.run(h, 'wait', [job, String(seconds), String(limit)], (seconds + 15) * 1000));
    const error = text(s, 'error');
    if (error) throw new Error(error);
    if (s.has('running')) return undefined;
    const more = (k: string): number => Number(text(s, k)?.trim() || 0);
    const stdout = s.get('stdout') ?? Buffer.alloc(0);
    const stderr = s.get('stderr') ?? Buffer.alloc(0);
    return {
      exitCode: Number(text(s, 'rc')?.trim()),
      stdout: stdout.toString('utf8'),
      stderr: stderr.toString('utf8'),
      truncated: more('stdout.more') > 0 || more('stderr.more') > 0 || stdout.length >= limit || stderr.length >= limit,
      beyondKept: { stdout: more('stdout.more'), stderr: more('stderr.more') },
    };
  }

  /** Block `n` (JOB_BLOCK bytes, fewer at the end) of a job's kept stdout (`out`), stderr (`err`) or `ticks` (ADR 43). */
  async readJobBlock(h: HelperRef, job: string, file: JobFile, n: number): Promise<Buffer> {
    return this.run(h, 'block', [job, file, String(n)]);
  }

  /**
   * Ends a helper: kills what the session started (while the helper still runs;
   * its SIGTERM handler does it again), then deletes the pod. Returns how many
   * processes were killed, or -1 when the clean-up through the helper failed.
   */
  async retire(pod: V1Pod): Promise<number> {
    const ref = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '' };
    const running = pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
    const killed = running ? await this.cleanup(ref).catch(() => -1) : 0;
    // Cleaned up: nothing is left for the helper's own SIGTERM handler to do, so it need not be waited for.
    await this.kube.deletePod(ref.namespace, ref.name, killed >= 0 && running ? 1 : undefined);
    return killed;
  }

  /**
   * The helper argv that runs one process in the foreground of an exec (an
   * attach): its stdio, terminal and exit status are the exec's.
   */
  attachArgv(job: JobStart): string[] {
    return helperArgv('attach', job.backend, ...this.processArgs(job));
  }

  /** Moves the helper's own safety-net deadline (after an extend). */
  async setDeadline(h: HelperRef, expiresAt: Date): Promise<void> {
    await this.run(h, 'deadline', [String(Math.ceil(expiresAt.getTime() / 1000))]);
  }

  /** Kills every process of the session in the container; returns how many. */
  async cleanup(h: HelperRef): Promise<number> {
    const out = (await this.run(h, 'cleanup', [])).toString();
    return Number(/killed (\d+)/.exec(out)?.[1] ?? 0);
  }

}
