/**
 * Reconciles one ExecSession: re-reads it, decides from its phase and what it
 * observes, acts, and reports in status. Idempotent: any step may be repeated
 * after a crash, a restart or a replayed event. Time comes from status
 * (startedAt, expiresAt), never from timers alone.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { verifySessionStamp } from '../signing/stamp.js';
import { describeApprovers } from '../approval/approvals.js';
import { authzRequestOf, describeAllowed, describePolicy } from '../authz/authorizer.js';
import { protectedTarget } from '../authz/protected-target.js';
import type { Allowed, Decision } from '../policy/types.js';
import { requested, started } from '../audit/steps.js';
import { Reason, kubeTime } from '../api/conditions.js';
import { formatDuration } from '../api/duration.js';
import { subresourcePath } from '../api/subresources.js';
import { isTerminalPhase, type ContainerUser, type ExecSession, type ExecSessionStatus, type Phase } from '../api/types.js';
import { argvTooLong, describeTooLong, isArgListTooLong, stringsBytes } from '../exec/arg-limits.js';
import { chooseBackend, jobFor, type BackendName, type SessionCommand } from '../exec/backend.js';
import type { HelperRef } from '../exec/helper-client.js';
import { helperPod, helperPodName } from '../exec/helper-pod.js';
import { claimedAtMs } from '../exec/warm-pod.js';
import { InspectError, type Inspection } from '../exec/inspect.js';
import { ResolveUserError, resolveUser } from '../exec/resolve-user.js';
import { apiMessage, classifyApiError } from '../k8s/api-errors.js';
import type { Kube } from '../k8s/kube.js';
import { decideLifetime, lifetimeStatus, notAfterMs, recordedLifetime, remainingMs, timeUp, untilNotAfterMs, type Lifetime } from '../lifetime/lifetime.js';
import { sealProblem, sealedPatch } from '../signing/seal.js';
import type { Clock, ReconcilerDeps, SessionAuthorizer, SessionHelpers, SessionMetrics } from './collaborators.js';
import type { Outcome } from './queue.js';
import { decideApproval } from './approval-gate.js';
import { sessionConditions, type Authorization, type SessionFacts } from './conditions.js';
import { decideHelper, decideTarget, type Target } from './decide.js';
import { Ending, FINALIZER, firstReadDone, reconcileBeginning } from './ending.js';
import { findHelper, hintedHelperName } from './helper-lookup.js';
import type { HelperPool } from './warm-pool.js';
import { INSPECTIONS_PER_NODE, NodeSlots } from './node-slots.js';
import type { Logger } from '../log/logger.js';
import type { ControllerConfig } from './types.js';
import type { JobRecordings } from './job-recording.js';

export { FINALIZER };

/** `uid=1000(alice) gid=1000 groups=1000,2000`, as `id` would say it. */
function describeUser(u: ContainerUser): string {
  return `uid=${u.uid}${u.name ? `(${u.name})` : ''} gid=${u.gid} groups=${u.groups.join(',')}`;
}

/** Where and how the session's subject attaches (docs/api.md). */
export function attachInfo(server: string, s: ExecSession): NonNullable<ExecSessionStatus['attach']> {
  const ns = s.metadata.namespace ?? '';
  const name = s.metadata.name ?? '';
  return {
    url: `${server}${subresourcePath(ns, name, 'attach')}`,
    command: `kubectl execsession attach ${name} -n ${ns}`,
    terminalPath: subresourcePath(ns, name, 'terminal'),
  };
}

/** The session's process: its command (else the user's login shell, as an attach without one runs) and terminal. */
function sessionCommand(s: ExecSession, backend: BackendName, inspection: Inspection, user: ContainerUser): SessionCommand {
  const oneShot = s.spec.tty === false && Boolean(s.spec.command?.length);
  return {
    backend, inspection, user, command: s.spec.command?.length ? s.spec.command : [user.shell || '/bin/sh'],
    tty: oneShot ? false : s.spec.tty ?? true, containerID: s.status?.containerID ?? '', sessionUid: s.metadata.uid ?? '',
  };
}

/** When a pod was created (epoch ms), if it exists and says. */
function createdMs(pod: V1Pod | undefined): number | undefined {
  const at = new Date(pod?.metadata?.creationTimestamp ?? Number.NaN).getTime();
  return Number.isFinite(at) ? at : undefined;
}

/** When a helper became the session's (epoch ms): when it was claimed from the warm pool, else created. */
function helperSinceMs(pod: V1Pod | undefined): number | undefined {
  return claimedAtMs(pod) ?? createdMs(pod);
}

/** A session waiting for an inspection slot is woken when one frees; this is only the backstop. */
const SLOT_RECHECK_MS = 5_000;

/** How often a live session re-checks its helper and target, at the latest. */
const LIVE_RECHECK_MS = 30_000;

export class Reconciler {
  private readonly kube: Kube;
  private readonly helpers: SessionHelpers;
  private readonly authorizer: SessionAuthorizer;
  private readonly cfg: ControllerConfig;
  private readonly log: Logger;
  private readonly now: Clock;
  private readonly ending: Ending;
  private readonly metrics: SessionMetrics | undefined;
  private readonly audit: ReconcilerDeps['audit'];
  private readonly slots: NodeSlots;
  private readonly pool: HelperPool | undefined;
  private readonly recordings: JobRecordings | undefined;

  /** Every collaborator comes in here (collaborators.ts); the reconciler builds none of its own. */
  constructor(d: ReconcilerDeps) {
    this.kube = d.kube;
    this.helpers = d.helpers;
    this.authorizer = d.authorizer;
    this.cfg = d.config;
    this.log = d.log;
    this.now = d.clock ?? (() => new Date());
    this.metrics = d.metrics;
    this.audit = d.audit;
    this.slots = d.inspections ?? new NodeSlots(INSPECTIONS_PER_NODE);
    this.pool = d.pool;
    this.recordings = d.recordings;
    this.ending = new Ending(d.kube, d.helpers, d.config, d.log, { now: this.now, metrics: d.metrics, audit: d.audit, pause: d.pause, actingSince: d.actingSince });
  }

  /** Reconciles `namespace/name`. */
  async reconcile(key: string): Promise<Outcome> {
    return reconcileBeginning(this.now().getTime(), () => this.reconcileNow(key));
  }

  private async reconcileNow(key: string): Promise<Outcome> {
    const [namespace = '', name = ''] = key.split('/');
    let s = await this.kube.getSession(namespace, name);
    firstReadDone(this.now().getTime());
    if (!s) return {};
    const phase = s.status?.phase;
    if (s.metadata.deletionTimestamp || isTerminalPhase(phase)) return this.afterEnd(s);
    if (!(s.metadata.finalizers ?? []).includes(FINALIZER)) {
      s = await this.kube.setSessionFinalizers(namespace, name, [...(s.metadata.finalizers ?? []), FINALIZER], s.metadata.resourceVersion ?? '');
      // The first write to a session: its request is audited once it is taken on (time: its creation).
      this.audit?.emit(requested(s));
    }
    const revoked = s.status?.revocation;
    if (revoked?.at) {
      return this.ending.end(s, 'Terminated', Reason.Revoked, `revoked by ${revoked.username} at ${revoked.at}${revoked.reason ? `: ${revoked.reason}` : ''}`);
    }
    // Whatever the stamp, RBAC and policies say (and for sessions admitted before this check existed).
    const guarded = protectedTarget(namespace, this.cfg.namespace);
    if (guarded) return this.ending.end(s, 'Denied', guarded.reason, guarded.message);
    // Before anything in status is acted on (expiry included): it must be what the operator wrote.
    const tampered = sealProblem(this.cfg.stampKey(), s);
    if (tampered) {
      const message = `${tampered}; the session was ended rather than run on it. Check who may patch execsessions/status (docs/policy.md), and create a new session`;
      return this.ending.end(s, 'Failed', Reason.StatusTampered, message);
    }
    const up = timeUp(s.spec, s.status, this.now());
    if (up) return this.ending.end(s, 'Expired', Reason[up.reason], up.message);
    return this.byPhase(s, phase).then((o) => this.notPastNotAfter(s, o), (e: unknown) => {
      // E2BIG never gets better by retrying: say so instead of retrying for ever.
      if (!isArgListTooLong(e)) throw e;
      const message = `the helper could not start the session's process in pod ${namespace}/${s.spec.podName}: ${e instanceof Error ? e.message : String(e)}. ` +
        'Its command and the container\'s environment are too large to exec together; shorten spec.command, or the container\'s environment, and create a new session';
      return this.ending.end(s, 'Failed', Reason.ArgumentListTooLong, message);
    });
  }

  /** A deleted or ended session: cleaned up; a one-shot command's recording still open here ends with it (ADR 43). */
  private async afterEnd(s: ExecSession): Promise<Outcome> {
    await this.recordings?.abandon(s);
    return s.metadata.deletionTimestamp ? this.ending.finalize(s) : this.ending.afterEnd(s);
  }

  /** A session that waits (for approval, for its pod) is looked at again by its spec.notAfter at the latest. */
  private notPastNotAfter(s: ExecSession, o: Outcome): Outcome {
    if (o.requeueAfterMs === undefined) return o;
    return { ...o, requeueAfterMs: Math.max(0, Math.min(o.requeueAfterMs, untilNotAfterMs(s.spec, this.now()))) };
  }

  private byPhase(s: ExecSession, phase: Phase | undefined): Promise<Outcome> {
    switch (phase) {
      case undefined:
      case 'Pending':
      case 'WaitingForApproval':
      case 'Approved':
        return this.start(s);
      case 'Starting':
        return this.whenHelperRuns(s);
      case 'Running':
        return this.whileJobRuns(s);
      default:
        return this.whileLive(s);
    }
  }

  /**
   * The session's helper pod by name: the one status records (sealed, checked before
   * any phase acts on it), else the name a cold helper gets. Pods are looked up by
   * the session's uid label (helper-lookup.ts), never by a name alone.
   */
  private helperRef(s: ExecSession): HelperRef {
    return { namespace: this.cfg.namespace, name: hintedHelperName(s, this.cfg.namespace) };
  }

  /**
   * When the session started: now, or when its helper became its own if one
   * exists already (a crash before status was written, or a status someone reset),
   * so that expiry never moves later than the first start.
   */
  private startTime(helper: V1Pod | undefined, now: Date): Date {
    const born = helperSinceMs(helper);
    return born !== undefined && born < now.getTime() ? new Date(born) : now;
  }

  /** Checks the stamp and the target and creates the helper pod; expiry is fixed here, once. */
  private async start(s: ExecSession): Promise<Outcome> {
    const ns = s.metadata.namespace ?? '';
    // Signed by the webhook, for this session, and issued for the request that created it (not replayed).
    const unsigned = verifySessionStamp(this.cfg.stampKey(), s);
    if (unsigned) return this.ending.end(s, 'Denied', unsigned.reason, unsigned.message);
    // Policies and RBAC may have changed since admission: decide again before anything runs.
    const authz = await this.authorize(s);
    if (!authz.allowed) return this.ending.end(s, 'Denied', authz.reason, authz.message);
    const held = authz.approvalsRequired > 0 ? await this.awaitApproval(s, authz) : undefined;
    if (held) return held;
    // Approved sessions keep the Authorized condition their approval wrote.
    const allowed: Authorization | undefined = authz.approvalsRequired > 0 ? undefined : { kind: 'allowed', message: describeAllowed(authz, s.spec.requester) };
    const pod = await this.kube.getPod(ns, s.spec.podName);
    const node = pod?.spec?.nodeName ? await this.kube.getNode(pod.spec.nodeName) : undefined;
    const d = decideTarget(s.spec, ns, pod, node);
    if (d.kind === 'fail') return this.ending.end(s, 'Failed', d.reason, d.message, { authorization: allowed });
    if (d.kind === 'wait') {
      const phase = authz.approvalsRequired > 0 ? 'Approved' : 'Pending';
      await this.report(s, { phase, message: d.message }, { reason: d.reason, message: d.message, authorization: allowed });
      return { requeueAfterMs: d.afterMs };
    }
    return this.launch(s, authz, d, allowed);
  }

  /**
   * Starts the session on its target. Its lifetime is decided here (src/lifetime),
   * or taken from status when a start runs again, and written to status, sealed,
   * before the helper pod is made from it: nothing acts on an expiry that status
   * does not hold, and a second start never moves it.
   */
  private async launch(s: ExecSession, authz: Allowed, d: Target, allowed: Authorization | undefined): Promise<Outcome> {
    const now = this.now();
    // Looked up by its label before one is created or claimed: a claim written just before a crash is found here.
    const found = await findHelper(this.kube, this.cfg.namespace, s);
    const lifetime = recordedLifetime(s.status) ?? decideLifetime(this.startTime(found, now), authz.ttlMs, authz.maxTtlMs, notAfterMs(s.spec));
    const warm = found ?? await this.claimWarm(s, d.node, lifetime, now);
    const ref: HelperRef = { namespace: this.cfg.namespace, name: warm?.metadata?.name ?? helperPodName(s.metadata.uid ?? '') };
    // A claimed helper still serves until its idle end: bind it to the session's expiry (ADR 31) before anything runs in it.
    if (claimedAtMs(warm) !== undefined) await this.helpers.setDeadline(ref, lifetime.expiresAt);
    const helper = `helper pod ${ref.namespace}/${ref.name}`;
    const expires = `the session expires at ${kubeTime(lifetime.expiresAt)}`;
    await this.report(s, {
      phase: 'Starting', node: d.node, container: d.container, containerID: d.containerID, runtime: d.runtime,
      helperPod: ref, ...lifetimeStatus(lifetime), message: `starting ${helper} on node ${d.node}; ${expires}`,
    }, { reason: Reason.HelperStarting, message: `starting ${helper} on node ${d.node}`, authorization: allowed })
      .catch((e: unknown) => this.unclaim(e, found ? undefined : warm));
    if (!warm) {
      const rejected = await this.createHelper(s, d.node, lifetime, allowed);
      if (rejected) return rejected;
    }
    const ttl = formatDuration(lifetime.expiresAt.getTime() - lifetime.startedAt.getTime());
    await this.event(s, 'Normal', 'Starting', `${helper} ${warm ? 'taken' : 'created'} on node ${d.node}; ${expires} (ttl ${ttl})`);
    // A warm helper runs already: inspect at once. A cold one is looked at again when it may run (or its pod's event).
    return { requeueAfterMs: warm ? 0 : 500 };
  }

  /**
   * The status write after a claim conflicted: someone else wrote the session meanwhile
   * (another replica, which may have given it another helper), so the pod claimed here
   * is deleted, never returned to the pool, and the reconcile runs again. Rethrows.
   */
  private async unclaim(e: unknown, claimed: V1Pod | undefined): Promise<never> {
    if (claimed && classifyApiError(e) === 'conflict') {
      await this.helpers.retire(claimed).catch(() => undefined);
      this.log.info({ helper: claimed.metadata?.name }, 'deleted a warm helper claimed for a session written meanwhile by someone else');
    }
    throw e;
  }

  /** A pod from the warm pool (ADR 41), now the session's; undefined without a pool or a free pod there. */
  private claimWarm(s: ExecSession, node: string, lifetime: Lifetime, now: Date): Promise<V1Pod | undefined> {
    if (!this.pool) return Promise.resolve(undefined);
    const last = lifetime.extendableUntil && lifetime.extendableUntil > lifetime.expiresAt ? lifetime.extendableUntil : lifetime.expiresAt;
    const session = { name: s.metadata.name ?? '', namespace: s.metadata.namespace ?? '', uid: s.metadata.uid ?? '' };
    return this.pool.claim(node, { session, lastExpiry: last, now });
  }

  /**
   * Creates the helper pod from the recorded lifetime. One that exists already is
   * the session's own (its name is the session's uid). Transient failures go back
   * to the queue; a refusal ends the session with the API server's message.
   */
  private async createHelper(s: ExecSession, node: string, lifetime: Lifetime, allowed: Authorization | undefined): Promise<Outcome | undefined> {
    const pod = helperPod({
      session: { name: s.metadata.name ?? '', namespace: s.metadata.namespace ?? '', uid: s.metadata.uid ?? '' },
      namespace: this.cfg.namespace, nodeName: node, image: this.cfg.helperImage, imagePullPolicy: this.cfg.helperPullPolicy,
      expiresAt: lifetime.expiresAt, extendableUntil: lifetime.extendableUntil, now: this.now(),
    });
    try {
      await this.kube.createPod(pod);
      return undefined;
    } catch (e) {
      const kind = classifyApiError(e);
      if (kind === 'conflict') return undefined;
      // Throttled, a restarting API server, a dropped connection: back to the queue, with backoff.
      if (kind === 'transient') throw e;
      const message = `the helper pod was rejected: ${apiMessage(e)}. The helper needs a privileged, hostPID pod in namespace ${this.cfg.namespace}; exempt it from policy engines there`;
      return this.ending.end(s, 'Failed', Reason.HelperRejected, message, { authorization: allowed });
    }
  }

  /** Once the helper runs: inspect the target, resolve the user, prepare, and go live. */
  private async whenHelperRuns(s: ExecSession): Promise<Outcome> {
    const pod = await findHelper(this.kube, this.cfg.namespace, s);
    if (!pod) return this.start(s);
    const ref = { namespace: this.cfg.namespace, name: pod.metadata?.name ?? '' };
    // The start timeout counts from this helper's creation or claim (a helper made again gets its own).
    const born = helperSinceMs(pod) ?? (Date.parse(s.status?.startedAt ?? '') || this.now().getTime());
    const d = decideHelper(pod, born, this.now(), this.cfg.startTimeoutMs);
    if (d.kind === 'fail') return this.ending.end(s, 'Failed', d.reason, d.message);
    if (d.kind === 'wait') return { requeueAfterMs: d.afterMs };
    return this.inspectThenEnter(s, ref, born);
  }

  /**
   * Inspects the target through the helper in one of the node's few inspection
   * slots (node-slots.ts, ADR 40): a session that finds them taken waits in the
   * queue, woken when one frees. Waiting, and retrying an inspection that
   * failed, last at most the start timeout from the helper's creation; then the
   * session ends Failed saying why, instead of staying Starting.
   */
  private async inspectThenEnter(s: ExecSession, ref: HelperRef, helperBornMs: number): Promise<Outcome> {
    const node = s.status?.node ?? '';
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const late = this.now().getTime() - helperBornMs > this.cfg.startTimeoutMs;
    const release = this.slots.take(node, key);
    if (!release) {
      if (late) return this.notInspected(s, `${this.slots.waiters(node)} sessions wait for one of the ${this.slots.inUse(node)} inspections running on node ${node}`);
      return { requeueAfterMs: SLOT_RECHECK_MS };
    }
    let inspection: Inspection;
    try {
      inspection = await this.helpers.inspect(ref, s.status?.containerID ?? '', s.metadata.uid ?? '');
    } catch (e) {
      if (e instanceof InspectError) return this.ending.end(s, 'Failed', Reason.RuntimeNotFound, `${this.where(s)}: ${e.message}`);
      // A failed exec (a timeout, a dropped connection) is retried with backoff until the start timeout.
      if (!late) throw e;
      return this.notInspected(s, e instanceof Error ? e.message : String(e));
    } finally {
      release();
    }
    return this.enter(s, inspection);
  }

  /** Ends a session whose target could not be inspected within the start timeout. */
  private notInspected(s: ExecSession, why: string): Promise<Outcome> {
    const limit = Math.round(this.cfg.startTimeoutMs / 1000);
    const message = `${this.where(s)} could not be inspected within ${limit}s of its helper's creation (${why}); the node is busy: create the session again later, or raise the operator's --start-timeout`;
    return this.ending.end(s, 'Failed', Reason.InspectTimedOut, message);
  }

  /** RBAC and policy for the session's subject (spec.onBehalfOf, else the requester); the stamp has been verified before. */
  private authorize(s: ExecSession, resolved?: ContainerUser): Promise<Decision> {
    return this.authorizer.authorize(authzRequestOf(s, resolved));
  }

  /**
   * Holds a session whose policy requires approvals: WaitingForApproval until
   * enough signed approvals count, then Approved (undefined: go on and start);
   * a counted denial ends it Denied, the approval timeout Expired. Expiry
   * (expiresAt) does not run while it waits.
   */
  private async awaitApproval(s: ExecSession, d: Allowed): Promise<Outcome | undefined> {
    const gate = decideApproval(s, d, this.cfg.stampKey(), this.now());
    if (gate.kind === 'end') return this.ending.end(s, gate.phase, gate.reason, gate.message);
    const was = s.status?.phase;
    if (gate.kind === 'approved') {
      if (was === 'Approved') return undefined;
      await this.report(s, { phase: 'Approved', message: gate.message }, { reason: Reason.Approved, message: gate.message, authorization: { kind: 'approved', message: gate.message } });
      await this.event(s, 'Normal', 'Approved', gate.message);
      return undefined;
    }
    await this.report(s, { phase: 'WaitingForApproval', message: gate.message },
      { reason: Reason.WaitingForApproval, message: gate.message, authorization: { kind: 'waiting', message: gate.message } });
    if (was !== 'WaitingForApproval') await this.event(s, 'Normal', 'WaitingForApproval', gate.message);
    // Looked at again at the approval deadline, or sooner when an approval, the policy or RBAC changes (ADR 35).
    return { requeueAfterMs: gate.afterMs };
  }

  private where(s: ExecSession): string {
    return `container "${s.status?.container}" of pod ${s.metadata.namespace}/${s.spec.podName}`;
  }

  /** Resolves the user inside the inspected target, authorizes again, and starts the job or goes live. */
  private async enter(s: ExecSession, inspection: Inspection): Promise<Outcome> {
    const ref = this.helperRef(s);
    const where = this.where(s);
    let user;
    try {
      user = resolveUser(s.spec.user, { passwd: inspection.passwd, group: inspection.group });
    } catch (e) {
      if (e instanceof ResolveUserError) return this.ending.end(s, 'Failed', Reason.UserNotFound, `${e.message} (${where}); use a user or uid that exists there, or a numeric uid`);
      throw e;
    }
    // Only now is it known what a name means in this container (uid 0 under another name, say).
    const resolved = await this.authorize(s, user);
    if (!resolved.allowed) return this.ending.end(s, 'Denied', resolved.reason, `${resolved.message} (${where} resolves "${s.spec.user}" to uid ${user.uid}, gid ${user.gid})`);
    if (resolved.approvalsRequired > 0 && decideApproval(s, resolved, this.cfg.stampKey(), this.now()).kind !== 'approved') {
      // Fail closed: the resolved user falls under a policy whose approvals this session was never given.
      const message = `${where} resolves "${s.spec.user}" to uid ${user.uid}, gid ${user.gid}, which only ${describePolicy(resolved)} allows, with ${resolved.approvalsRequired} approval(s) from ${describeApprovers(resolved.approvers)}; create the session again with spec.user as a uid (e.g. "1000") so that the policy, and its approvals, are known before it starts`;
      return this.ending.end(s, 'Denied', Reason.ApprovalRequired, message);
    }
    const chosen = chooseBackend(this.cfg.backend, inspection);
    if ('error' in chosen) {
      const message = `${where}: ${chosen.error}. Check the operator's --runtime-config-path and --runtime-root for this node's runtime (${s.status?.runtime}), or use --backend=auto`;
      return this.ending.end(s, 'Failed', Reason.RuntimeNotFound, message);
    }
    const oneShot = s.spec.tty === false && Boolean(s.spec.command?.length);
    const cmd = sessionCommand(s, chosen.backend, inspection, user);
    const tooLong = this.tooLongToExec(cmd, oneShot);
    if (tooLong) return this.ending.end(s, 'Failed', Reason.ArgumentListTooLong, `the session's process cannot start in ${where}: ${tooLong}`);
    if (oneShot) return this.startJob(s, ref, cmd, resolved);
    return this.goLive(s, user, chosen.backend, resolved);
  }

  /**
   * Why the session's process can never be exec'd (its command and the
   * container's environment above the kernel's limits), or undefined: checked
   * before a job starts or a session is offered to attach.
   */
  private tooLongToExec(cmd: SessionCommand, oneShot: boolean): string | undefined {
    let argv: string[];
    try {
      argv = oneShot ? this.helpers.startArgv(jobFor(cmd, 'command', this.cfg.recordedOutputLimit)) : this.helpers.attachArgv(jobFor(cmd, 'attach', 0));
    } catch {
      // A process that cannot be built fails where it starts, with its own message.
      return undefined;
    }
    const r = argvTooLong(argv);
    if (!r) return undefined;
    const env = cmd.backend === 'runtime' ? cmd.inspection.process?.env ?? [] : cmd.inspection.environ;
    return describeTooLong(r, { envBytes: stringsBytes(env), commandBytes: stringsBytes(cmd.command) });
  }

  /**
   * Starts a non-interactive command (tty: false with a command): it runs once.
   * Its recording is opened first: one that must be made and cannot be keeps
   * the command from running (ADR 43). The helper keeps the whole output (up to
   * --recorded-output-limit) when it is recorded, else what status.result takes.
   */
  private async startJob(s: ExecSession, ref: HelperRef, cmd: SessionCommand, { policy, recording }: Allowed): Promise<Outcome> {
    const refused = await this.recordings?.begin(s, recording.mode, cmd.user);
    if (refused) return this.ending.end(s, 'Failed', Reason.RecordingUnavailable, `${refused}; the command did not run. Create the session again once the store is writable, or ask an admin`);
    const keep = this.recordings?.records(recording.mode) ? Math.max(this.cfg.recordedOutputLimit, this.cfg.outputLimit) : this.cfg.outputLimit;
    await this.helpers.startJob(ref, jobFor(cmd, 'command', keep));
    const message = `running ${JSON.stringify(cmd.command)} as ${describeUser(cmd.user)} in ${this.where(s)} (${cmd.backend} backend)`;
    await this.report(s, { phase: 'Running', backend: cmd.backend, user: cmd.user, recording, message }, { reason: Reason.CommandRunning, message });
    this.audit?.emit(started(s, policy, this.now()));
    await this.event(s, 'Normal', 'Running', message);
    return { requeueAfterMs: 0 };
  }

  /** An interactive session is Ready: clients may attach until it expires. */
  private async goLive(s: ExecSession, user: ContainerUser, backend: BackendName, { recording, policy }: Allowed): Promise<Outcome> {
    const where = this.where(s);
    const who = describeUser(user);
    const message = `ready: ${where} as ${who} until ${s.status?.expiresAt}`;
    const was = s.status?.phase;
    await this.report(s, { phase: 'Ready', backend, user, recording, attach: attachInfo(this.cfg.publicServer ?? '', s), message }, { reason: Reason.SessionReady, message });
    if (was !== 'Ready') {
      this.metrics?.sessionReady((this.now().getTime() - new Date(s.metadata.creationTimestamp ?? Number.NaN).getTime()) / 1000);
      this.audit?.emit(started(s, policy, this.now()));
    }
    await this.event(s, 'Normal', 'Ready', message);
    return { requeueAfterMs: Math.min(remainingMs(s.status, this.now()), LIVE_RECHECK_MS) };
  }

  /** A non-interactive job: wait for it, then record its result. */
  private async whileJobRuns(s: ExecSession): Promise<Outcome> {
    const ref = this.helperRef(s);
    if (!(await this.helperRunning(s))) return this.expiredOr(s) ?? this.ending.end(s, 'Failed', Reason.HelperGone, 'the helper pod is gone while the command ran');
    const seconds = Math.max(1, Math.min(5, Math.floor(remainingMs(s.status, this.now()) / 1000)));
    const r = await this.helpers.waitJob(ref, 'command', seconds, this.cfg.outputLimit);
    if (!r) return { requeueAfterMs: 0 };
    const result = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    // Recorded before the end is written: the end removes the helper, and the output on its disk.
    const unrecorded = await this.recordings?.finish(s, r, (file, n) => this.helpers.readJobBlock(ref, 'command', file, n));
    if (unrecorded) return this.ending.end(s, 'Failed', Reason.RecordingFailed, `the command exited ${r.exitCode}, but ${unrecorded}`, { result });
    return r.exitCode === 0
      ? this.ending.end(s, 'Succeeded', Reason.CommandSucceeded, 'the command exited 0', { result })
      : this.ending.end(s, 'Failed', Reason.CommandFailed, `the command exited ${r.exitCode}`, { result });
  }

  /** A live interactive session: it ends at expiry, or when its helper or target is gone. */
  private async whileLive(s: ExecSession): Promise<Outcome> {
    if (!(await this.helperRunning(s))) {
      return this.expiredOr(s) ?? this.ending.end(s, 'Failed', Reason.HelperGone, 'the helper pod is gone (deleted or evicted); create a new session');
    }
    const pod = await this.kube.getPod(s.metadata.namespace ?? '', s.spec.podName);
    const current = pod?.status?.containerStatuses?.find((c) => c.name === s.status?.container)?.containerID?.split('://')[1];
    if (current !== s.status?.containerID) {
      return this.ending.end(s, 'Terminated', Reason.TargetGone, `the target container was ${pod ? 'restarted' : 'deleted'}; the session's processes went with it`);
    }
    return { requeueAfterMs: Math.min(remainingMs(s.status, this.now()), LIVE_RECHECK_MS) };
  }

  /**
   * A helper found gone just as the session expired ended it at its expiry (ADR 31):
   * that is an expiry, not a failure. undefined while the session's time is not up.
   */
  private expiredOr(s: ExecSession): Promise<Outcome> | undefined {
    const up = timeUp(s.spec, s.status, this.now());
    return up ? this.ending.end(s, 'Expired', Reason[up.reason], up.message) : undefined;
  }

  private async helperRunning(s: ExecSession): Promise<boolean> {
    const pod = await findHelper(this.kube, this.cfg.namespace, s);
    return pod?.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
  }

  /**
   * Writes status fields and the conditions that follow from the new phase and
   * this step's facts (conditions.ts), only when something changed, sealed
   * when the status holds what the operator acts on: then with the
   * resourceVersion it was read at, so a write in between conflicts (and the
   * reconcile runs again) instead of being sealed over unseen.
   */
  private async report(s: ExecSession, fields: Partial<ExecSessionStatus> & { phase: Phase }, step: Omit<SessionFacts, 'phase' | 'from'>): Promise<void> {
    const conds = sessionConditions(s.status?.conditions, { phase: fields.phase, from: s.status?.phase, ...step }, s.metadata.generation ?? 0, this.now());
    const next = { ...fields, conditions: conds, observedGeneration: s.metadata.generation };
    const changed = Object.entries(next).some(([k, v]) => JSON.stringify((s.status as Record<string, unknown> | undefined)?.[k]) !== JSON.stringify(v));
    if (!changed) return;
    const sealed = sealedPatch(this.cfg.stampKey(), s, next);
    const updated = await this.kube.patchSessionStatus(s.metadata.namespace ?? '', s.metadata.name ?? '', sealed, sealed.seal ? s.metadata.resourceVersion : undefined);
    if (fields.phase && fields.phase !== s.status?.phase) {
      const since = Date.now() - Date.parse(String(s.metadata.creationTimestamp ?? ''));
      this.log.info({ session: `${s.metadata.namespace}/${s.metadata.name}`, phase: fields.phase, sinceCreatedMs: since }, 'phase changed');
    }
    s.status = updated.status;
    s.metadata = updated.metadata;
  }

  private async event(s: ExecSession, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.kube.recordEvent(s, { type, reason, message }).catch((e: unknown) => this.log.warn({ err: apiMessage(e) }, 'could not record event'));
  }
}
