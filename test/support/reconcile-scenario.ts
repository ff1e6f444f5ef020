// The scaffolding of the reconcile-level tier (src/controller/reconcile-*.test.ts):
// one session, its target, its policy and the fakes around a Reconciler, on a clock the test moves.
import { QUIET, controllerConfig } from './controller.js';
import assert from 'node:assert/strict';
import { type V1Pod } from '@kubernetes/client-node';
import { FakeHelpers } from './fake-helpers.js';
import { FakeCluster } from './fake-kube.js';
import { makeStamp } from '../../src/signing/stamp.js';
import type { ExecSession, ExecSessionSpec } from '../../src/api/types.js';
import { Authorizer } from '../../src/authz/authorizer.js';
import type { ExecPolicySpec } from '../../src/policy/types.js';
import type { Outcome } from '../../src/controller/queue.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import type { NodeSlots } from '../../src/controller/node-slots.js';
import type { HelperPool } from '../../src/controller/warm-pool.js';
import { OperatorMetrics } from '../../src/metrics/metrics.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { JobRecordings } from '../../src/controller/job-recording.js';
import type { RecordingStore } from '../../src/recording/store.js';

export const KEY = Buffer.alloc(32, 7);
export const NS = 'shop';
export const OPS = 'execsession-system';
export const HELPER = `${OPS}/execsession-u1`;
export const SESSION = `${NS}/dbg`;
export const CREATED = new Date('2026-11-22T10:00:00Z');
export const RETENTION_MS = 3_600_000;
export const CFG = controllerConfig(KEY, { namespace: OPS, retentionMs: RETENTION_MS });
/** issue 12's policy: sessions without a ttl get 5m, none more than 10m. */
export const POLICY: ExecPolicySpec = { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '5m', max: '10m' } };

export const MIN = 60_000;
export const at = (iso: string): Date => new Date(iso);

export function targetPod(containerID = 'abc123abc123'): V1Pod {
  return {
    metadata: { name: 'web', namespace: NS, creationTimestamp: CREATED as never },
    spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${containerID}`, state: { running: {} } }] },
  };
}

/** One session, its target, its policy and the fakes around a Reconciler, on a clock the test moves. */
export class Scenario {
  now: Date;
  readonly c = new FakeCluster();
  readonly kube = this.c.kube();
  readonly helpers = new FakeHelpers(this.kube);
  reconciler: Reconciler;
  /** A real registry: what the reconciler observes, as a scrape would read it. */
  readonly metrics = new OperatorMetrics();
  /** The audit events the reconciler emitted, in order. */
  readonly audited: AuditEvent[] = [];
  private seen = 0;
  /** The reconciler's waits (ms), in order: they take no time here (the clock moves only when a test moves it). */
  readonly pauses: number[] = [];
  /** Called at each wait: a test acts there as the cluster would meanwhile (the kubelet's report, ...). */
  onPause: (t: Scenario) => void = () => undefined;
  /** Since when the operator acts (epoch ms); undefined: unknown, as a Reconciler without a controller. */
  actingSince: number | undefined;

  private readonly opts: { spec?: Partial<ExecSessionSpec>; policy?: Partial<ExecPolicySpec>; now?: Date; inspections?: NodeSlots; recordings?: RecordingStore; noRecordingStore?: boolean; pool?: (s: Scenario) => HelperPool };

  constructor(opts: { spec?: Partial<ExecSessionSpec>; policy?: Partial<ExecPolicySpec>; now?: Date; inspections?: NodeSlots; recordings?: RecordingStore; noRecordingStore?: boolean; pool?: (s: Scenario) => HelperPool } = {}) {
    this.opts = opts;
    this.now = opts.now ?? at('2026-11-22T10:00:01Z');
    this.c.podClock = () => this.now;
    this.c.pods.set(`${NS}/web`, targetPod());
    this.c.nodes.set('node-1', { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    this.c.policies = [{ kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { ...POLICY, ...opts.policy } } }];
    const spec: ExecSessionSpec = { podName: 'web', user: 'alice', tty: true, ...opts.spec };
    const requester = makeStamp(KEY, { namespace: NS, name: 'dbg', spec }, { username: 'alice', groups: ['developers'] }, CREATED);
    this.c.addSession({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
      metadata: { name: 'dbg', namespace: NS, uid: 'u1', generation: 1, creationTimestamp: CREATED as never }, spec: { ...spec, requester },
    });
    this.reconciler = this.newReconciler();
  }

  /** A Reconciler over the fakes; with `recordings`, one-shot commands are recorded there. */
  private newReconciler(): Reconciler {
    const audit = { emit: (e: AuditEvent): void => { this.audited.push(e); } };
    // recordings: one-shot commands recorded there; noRecordingStore: as with --recording-store=none; neither: no JobRecordings.
    const recordings = this.opts.recordings || this.opts.noRecordingStore ? new JobRecordings({ store: this.opts.recordings, stampKey: () => KEY, log: QUIET, now: () => this.now, audit, failed: (kind) => this.metrics.recordingFailed(kind) }) : undefined;
    return new Reconciler({ kube: this.kube, helpers: this.helpers, authorizer: new Authorizer(this.kube), config: CFG, log: QUIET, clock: () => this.now, metrics: this.metrics,
      audit, inspections: this.opts.inspections, pool: this.opts.pool?.(this), recordings,
      actingSince: () => this.actingSince,
      pause: (ms) => {
        this.pauses.push(ms);
        this.onPause(this);
        return Promise.resolve();
      } });
  }

  /** The operator restarts (another leader takes over): nothing it held in memory is left. */
  restartOperator(): void {
    this.reconciler = this.newReconciler();
  }

  reconcile(): Promise<Outcome> {
    return this.reconciler.reconcile(SESSION);
  }

  get session(): ExecSession {
    const s = this.c.sessions.get(SESSION);
    assert.ok(s, 'the session exists');
    return s;
  }

  get helper(): V1Pod | undefined {
    return this.c.pods.get(HELPER);
  }

  /** The writes since the last call. */
  writes(): string[] {
    const w = this.c.actions.slice(this.seen);
    this.seen = this.c.actions.length;
    return w;
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** The helper pod's container runs (as the kubelet would report it). */
  helperRuns(): void {
    const pod = this.helper;
    assert.ok(pod, 'the helper pod exists');
    pod.status = { phase: 'Running', containerStatuses: [{ name: 'helper', image: 'helper:test', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
  }

  /** Started, its helper running, and Ready; the writes so far drained. */
  async ready(): Promise<void> {
    await this.reconcile();
    this.helperRuns();
    await this.reconcile();
    assert.equal(this.session.status?.phase, 'Ready', this.session.status?.message);
    this.writes();
  }

  reason(): string | undefined {
    return this.session.status?.conditions?.find((x) => x.type === 'Ready')?.reason;
  }
}

export const PATCH = `patch execsessions/status ${SESSION}`;
export const FINALIZE = `update execsessions ${SESSION} finalizers`;
export const CREATE_HELPER = `create pods ${HELPER}`;
export const DELETE_HELPER = `delete pods ${HELPER}`;

/** The expiry (epoch seconds) the helper's own program enforces, from its command. */
export function helperExpiry(pod: V1Pod | undefined): string | undefined {
  const argv = pod?.spec?.containers[0]?.command ?? [];
  return argv[argv.indexOf('serve') + 1];
}

