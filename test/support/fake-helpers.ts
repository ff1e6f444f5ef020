/**
 * An in-memory helper pod for reconcile-level tests: what the controller asks of
 * a session's helper (controller/collaborators.ts SessionHelpers), answered from
 * a fixed inspection, with every call listed in `calls`. The argv the real
 * helper would run is built by the real HelperClient (pure), so argument-size
 * checks see what production sees.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { SessionHelpers } from '../../src/controller/collaborators.js';
import { CONTAINERD_PATHS, HelperClient, type HelperRef, type JobResult, type JobStart } from '../../src/exec/helper-client.js';
import { interpretInspection, type Inspection } from '../../src/exec/inspect.js';
import { parseSections } from '../../src/exec/sections.js';
import type { Kube } from '../../src/k8s/kube.js';
import { JOB_BLOCK, type JobFile } from '../../src/recording/job-cast.js';

/** The helper's `inspect` output for a running containerd container whose process has `env`, with users root and alice (1000). */
export function inspectOutput(env: string[] = ['PATH=/bin']): Buffer {
  const sections: Record<string, string> = {
    config: JSON.stringify({ process: { user: { uid: 1001, gid: 1001 }, args: ['sleep', 'infinity'], cwd: '/', env } }),
    state: '{"pid":4242}', pid: '4242',
    passwd: 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', group: 'root:x:0:\nalice:x:1000:\n',
    userns: 'user:[1] user:[1]', environ: env.join('\0'), cgroup: '0::/kubepods/x\n', status: 'CapBnd:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n', cgroupfs: 'v2', prepared: '',
  };
  return Buffer.concat(Object.entries(sections).map(([k, v]) => Buffer.concat([Buffer.from(`${k} ${Buffer.byteLength(v)}\n`), Buffer.from(v)])));
}

export class FakeHelpers implements SessionHelpers {
  /** Every call, in order: `inspect NAME`, `startJob NAME JOB`, `waitJob NAME JOB`, `retire NAME`, `setDeadline NAME TIME`. */
  calls: string[] = [];
  /** What `inspect` answers. */
  inspection: Inspection = interpretInspection(parseSections(inspectOutput()));
  /** What `waitJob` answers (undefined: the job still runs). */
  jobResult: JobResult | undefined;
  /** Makes the next call of a method throw (e.g. an exec that lost its connection). */
  failures: Partial<Record<'inspect' | 'startJob' | 'waitJob', unknown[]>> = {};
  private readonly argv = new HelperClient(undefined as unknown as Kube, CONTAINERD_PATHS);

  /** `kube` deletes the helper pod on retire, as the real one does (so the fake cluster lists the delete). */
  constructor(private readonly kube: Kube) {}

  private fail(method: 'inspect' | 'startJob' | 'waitJob'): void {
    const failure = this.failures[method]?.shift();
    if (failure !== undefined) throw failure;
  }

  async inspect(h: HelperRef): Promise<Inspection> {
    this.calls.push(`inspect ${h.name}`);
    this.fail('inspect');
    return this.inspection;
  }

  async startJob(h: HelperRef, job: JobStart): Promise<void> {
    this.calls.push(`startJob ${h.name} ${job.name}`);
    this.fail('startJob');
  }

  startArgv(job: JobStart): string[] {
    return this.argv.startArgv(job);
  }

  attachArgv(job: JobStart): string[] {
    return this.argv.attachArgv(job);
  }

  async waitJob(h: HelperRef, job: string): Promise<JobResult | undefined> {
    this.calls.push(`waitJob ${h.name} ${job}`);
    this.fail('waitJob');
    return this.jobResult;
  }

  async setDeadline(h: HelperRef, expiresAt: Date): Promise<void> {
    this.calls.push(`setDeadline ${h.name} ${expiresAt.toISOString()}`);
  }

  /** The job's kept files (out, err, ticks) that `readJobBlock` serves, in blocks as the helper does. */
  jobFiles: Partial<Record<JobFile, Buffer>> = {};

  async readJobBlock(h: HelperRef, job: string, file: JobFile, n: number): Promise<Buffer> {
    this.calls.push(`readJobBlock ${h.name} ${job} ${file} ${n}`);
    return (this.jobFiles[file] ?? Buffer.alloc(0)).subarray(n * JOB_BLOCK, (n + 1) * JOB_BLOCK);
  }

  async retire(pod: V1Pod): Promise<number> {
    this.calls.push(`retire ${pod.metadata?.name}`);
    await this.kube.deletePod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    return 0;
  }
}
