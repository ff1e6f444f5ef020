/**
 * The attach bridge. An attach runs one new process in the session's target
 * container, as the session's resolved user and in its sub-cgroup, through the
 * helper pod and the session's backend, and relays the client's channel frames
 * to and from a kubelet exec of the helper (the same channel protocol on both
 * sides). It enforces what only the operator knows: the caller must be the
 * session's subject, the session must be live, and every attach ends at the
 * session's expiry or revocation with a last message, whichever replica serves it.
 */
import type WebSocket from 'ws';
import type { ExecSession, Person } from '../api/types.js';
import type { Logger } from '../log/logger.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import { jobFor, type BackendName } from '../exec/backend.js';
import type { HelperClient } from '../exec/helper-client.js';
import { expiresAtMs } from '../lifetime/lifetime.js';
import { apiMessage, type Kube } from '../k8s/kube.js';
import { sealProblem } from '../signing/seal.js';
import { Channel, exitCodeOf, exitStatus, failureStatus, frame, parseResize, parseStatus, PROTOCOL_V5, type ExecStatus } from '../api/channels.js';
import { ApiError } from './types.js';
import { notAttachable, notSubject, processOf } from './attach-process.js';

export { notAttachable };
import { openRecording, RelayRecording, type RecordingDeps } from './recording.js';
import type { RecordingStore } from '../recording/store.js';
import type { Auditor } from '../audit/auditor.js';
import { AttachAudit } from './attach-audit.js';

import { DEFAULT_ATTACH_CONFIG, type AttachConfig, type AttachPlan, type TerminalSize } from './attach-plan.js';

export { DEFAULT_ATTACH_CONFIG, type AttachConfig, type AttachPlan, type TerminalSize };

/** How long a TTY attach waits for the client's first size before it starts anyway. */
const FIRST_SIZE_WAIT_MS = 1000;

/** Send buffers above this pause the other side; below LOW they resume. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

/** One live attach: a client socket relayed to a helper exec. */
class Attachment {
  private finished = false;
  /** The process's status arrived (finish follows, perhaps after asking why the session ended). */
  private statusSeen = false;
  private lastActivity = Date.now();
  private alive = true;
  private lastPing = Date.now();
  private upstream: WebSocket | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private exitCode: number | undefined;
  /** This attach's recording, its writer taken from the plan. */
  private readonly recording: RelayRecording;
  /** Its audit events (attached, detached, recordingStored). */
  readonly audit: AttachAudit;

  constructor(readonly plan: AttachPlan, private readonly client: WebSocket, private readonly owner: Attacher) {
    this.audit = new AttachAudit(plan, owner.auditor, () => owner.clock());
    this.recording = new RelayRecording(plan.recording, (e) => this.recordingFailed(e), (n) => this.audit.stored(plan.recording.store, n));
    plan.recording = { ...plan.recording, writer: undefined };
    this.ticker = setInterval(() => this.tick(), Math.min(1000, owner.cfg.pingIntervalMs));
    this.ticker.unref();
    this.scheduleExpiry(plan.expiresAt);
  }

  /**
   * With a TTY, the client's first size, waited for at most FIRST_SIZE_WAIT_MS:
   * the process is started with it (OCI consoleSize), so input typed ahead never
   * runs in a terminal without a size. Frames that arrive meanwhile are kept.
   */
  private firstSize(early: Buffer[]): Promise<TerminalSize | undefined> {
    const { client, plan } = this;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), plan.tty ? FIRST_SIZE_WAIT_MS : 0);
      let kept = 0;
      client.on('message', (data: Buffer, isBinary: boolean) => {
        if (this.upstream) return this.fromClient(data, isBinary);
        early.push(data);
        kept += data.length;
        if (kept > HIGH_WATER) client.pause();
        const size = isBinary && data[0] === Channel.Resize ? parseResize(data.subarray(1)) : undefined;
        if (size && plan.tty) {
          clearTimeout(timer);
          resolve(size);
        }
      });
    });
  }

  /** Connects to the helper and starts relaying; client frames wait until then. */
  async begin(): Promise<void> {
    const { client, plan } = this;
    client.on('pong', () => { this.alive = true; });
    client.on('close', () => this.finish(undefined));
    client.on('error', () => this.finish(undefined));
    const early: Buffer[] = [];
    const size = await this.firstSize(early);
    if (this.finished) return;
    this.recording.start(plan.session, this.owner.stampKey(), size, plan.command);
    let upstream: WebSocket;
    try {
      upstream = await this.owner.kube.openExecStream(plan.helper.namespace, plan.helper.name, 'helper', plan.argvFor(size), { tty: plan.tty, stdin: plan.stdin });
    } catch (e) {
      this.finish(failureStatus('InternalError', `could not reach the session's helper pod ${plan.helper.namespace}/${plan.helper.name}: ${apiMessage(e)}`));
      return;
    }
    if (this.finished) {
      upstream.close();
      return;
    }
    this.upstream = upstream;
    upstream.on('message', (data: Buffer) => this.fromUpstream(data));
    upstream.on('close', () => void this.upstreamClosed());
    upstream.on('error', (e) => this.owner.log.warn({ err: String(e), session: plan.key }, 'attach: helper exec failed'));
    for (const data of early) this.fromClient(data, true);
    client.resume();
  }

  /** The store failed mid-attach: Required ends the attach (fail closed), BestEffort goes on unrecorded. */
  private recordingFailed(e: Error): void {
    const { plan } = this;
    this.owner.recordingFailed(plan.recording.kind);
    this.owner.log.warn({ session: plan.key, store: plan.recording.store, err: e.message, mode: plan.recording.mode }, 'attach: recording failed');
    if (plan.recording.mode !== 'Required') return;
    const msg = `the recording of this attach failed (${e.message}) and session ${plan.key} must be recorded (recording: Required); attach again once the store is writable`;
    this.finish(failureStatus('RecordingFailed', msg, 503), msg);
  }

  private fromClient(data: Buffer, isBinary: boolean): void {
    const upstream = this.upstream;
    if (!upstream || data.length === 0) return;
    // v4/v5 clients send binary frames; a text frame is base64-free legacy and not supported.
    if (!isBinary) return;
    const channel = data[0];
    if (channel === Channel.Stdin) {
      if (!this.plan.stdin) return;
      this.lastActivity = Date.now();
      this.owner.metrics?.attachRelayed('in', data.length - 1);
      this.recording.input(data);
      this.send(upstream, data, this.client);
    } else if (channel === Channel.Resize) {
      this.recording.resize(data);
      this.send(upstream, data, this.client);
    } else if (channel === Channel.Close && this.client.protocol === PROTOCOL_V5 && upstream.protocol === PROTOCOL_V5) {
      // Closing stdin reaches the process only where the cluster speaks v5 too (Kubernetes 1.30+):
      // v4 cannot half-close. With a terminal, ^D ends input either way.
      this.send(upstream, data, this.client);
    }
  }

  private fromUpstream(data: Buffer): void {
    if (data.length === 0) return;
    const channel = data[0];
    if (channel === Channel.Stdout || channel === Channel.Stderr) {
      this.lastActivity = Date.now();
      this.owner.metrics?.attachRelayed('out', data.length - 1);
      this.recordOutput(data);
      this.send(this.client, data, this.upstream);
    } else if (channel === Channel.Status) {
      const status = parseStatus(data.subarray(1));
      const code = status ? exitCodeOf(status) : undefined;
      this.exitCode = code;
      if (code !== undefined) this.recording.exit(code);
      this.statusSeen = true;
      const result = code !== undefined ? exitStatus(code) : failureStatus('InternalError', `the process could not run: ${status?.message ?? 'unknown error'}`);
      if (code === 0) {
        this.finish(result);
        return;
      }
      // A process killed because its session ended says why (revoked, expired), not its signal's exit
      // code: with two replicas, the one that ended the session may not be the one relaying this attach.
      void this.owner.whyEnded(this.plan).catch(() => undefined).then((ended) => this.finish(ended ?? result, ended?.message));
    }
  }

  /** Records output; while the store is behind, the process's output waits (never a growing buffer). */
  private recordOutput(data: Buffer): void {
    this.recording.output(data);
    const upstream = this.upstream;
    if (!upstream || this.recording.backlog <= HIGH_WATER) return;
    if (!upstream.isPaused) upstream.pause();
    void this.recording.drained().then(() => {
      if (upstream.isPaused && this.client.bufferedAmount < LOW_WATER) upstream.resume();
    });
  }

  /** Sends, pausing `source` while `to` has too much unsent (or the recording is behind). */
  private send(to: WebSocket, data: Buffer, source: WebSocket | undefined): void {
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary: true }, () => {
      const recordingBehind = source === this.upstream && this.recording.backlog > HIGH_WATER;
      if (source?.isPaused && to.bufferedAmount < LOW_WATER && !recordingBehind) source.resume();
    });
    if (source && !source.isPaused && to.bufferedAmount > HIGH_WATER) source.pause();
  }

  private async upstreamClosed(): Promise<void> {
    if (this.finished || this.statusSeen) return;
    // No status: the process was killed from outside (expiry, revocation, the session ended).
    const ended = await this.owner.whyEnded(this.plan).catch(() => undefined);
    this.finish(ended ?? failureStatus('InternalError', 'the connection to the session\'s process closed without an exit status'), ended?.message);
  }

  private tick(): void {
    if (this.finished) return;
    const now = Date.now();
    if (now - this.lastActivity > this.owner.cfg.idleTimeoutMs) {
      const idle = Math.round(this.owner.cfg.idleTimeoutMs / 1000);
      const msg = `attach closed after ${idle}s without input or output; attach again with: kubectl execsession attach ${this.plan.name} -n ${this.plan.namespace}`;
      this.finish(failureStatus('IdleTimeout', msg, 408), msg);
      return;
    }
    if (now - this.lastPing >= this.owner.cfg.pingIntervalMs) {
      this.lastPing = now;
      if (!this.alive) {
        this.client.terminate();
        this.finish(undefined);
        return;
      }
      this.alive = false;
      this.client.ping();
    }
  }

  /** (Re)arms the end at the session's expiry. */
  scheduleExpiry(expiresAt: number): void {
    this.plan.expiresAt = expiresAt;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const delay = Math.min(Math.max(0, this.owner.msUntil(expiresAt)), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      const at = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const msg = `session ${this.plan.key} expired at ${at}; create a new session to continue`;
      this.finish(failureStatus('Expired', msg, 410), msg);
    }, delay);
    this.expiryTimer.unref();
  }

  /**
   * Ends the attach once: an optional last line for the person at the terminal,
   * the status frame, and both sockets closed.
   */
  finish(status: ExecStatus | undefined, lastLine?: string): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.ticker);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const { client } = this;
    const text = lastLine ? (this.plan.tty ? `\r\nexecsession: ${lastLine}\r\n` : `execsession: ${lastLine}\n`) : undefined;
    this.recording.end(this.exitCode === undefined ? status?.reason ?? 'Disconnected' : undefined, text, this.plan.tty);
    if (client.readyState === client.OPEN) {
      if (text) client.send(frame(this.plan.tty ? Channel.Stdout : Channel.Stderr, text));
      if (status) client.send(frame(Channel.Status, JSON.stringify(status)));
      client.close(1000);
      // A client that does not answer the close handshake is cut off.
      setTimeout(() => client.terminate(), 1000).unref();
    }
    if (this.upstream && this.upstream.readyState <= this.upstream.OPEN) this.upstream.close();
    this.owner.done(this, status);
  }

  /** The detached event: the exit code, else why it ended. */
  audited(status: ExecStatus | undefined): void {
    this.audit.detached(this.exitCode, status?.reason);
  }

  describeEnd(status: ExecStatus | undefined): string {
    const seconds = Math.round((Date.now() - this.startedAt) / 1000);
    const how = this.exitCode !== undefined ? `exit ${this.exitCode}` : status?.reason ?? 'client disconnected';
    return `${this.plan.caller.username} detached after ${seconds}s (${how})`;
  }
}

/** What an Attacher asks of a session's helper pod (exec/helper-client.ts is the real one). */
export type AttachHelpers = Pick<HelperClient, 'inspect' | 'attachArgv'>;

/** What an Attacher verifies status with, its clock (a seam for tests), and where it counts attaches and bytes. */
export interface AttachKeys {
  sealKey: () => Buffer;
  now?: () => Date;
  metrics?: Pick<OperatorMetrics, 'attach' | 'attachRelayed' | 'recordingFailed'>;
  /** Where attaches are recorded; undefined: nowhere (only sessions with recording Off or BestEffort attach). */
  recordings?: RecordingStore;
  /** Where attaches are audited (src/audit); undefined: not. */
  audit?: Auditor;
}

export class Attacher {
  private readonly live = new Map<string, Set<Attachment>>();
  /** Attach slots taken by attaches being prepared (not live yet), by session. */
  private readonly reserved = new Map<string, number>();
  private poller: NodeJS.Timeout | undefined;

  private readonly sealKey: () => Buffer;
  private readonly now: () => Date;
  readonly metrics: AttachKeys['metrics'];

  /** `keys.sealKey` verifies status.seal: an attach runs only on status the operator wrote. */
  constructor(readonly kube: Kube, private readonly helpers: AttachHelpers, readonly cfg: AttachConfig, readonly log: Logger, keys: AttachKeys) {
    this.sealKey = keys.sealKey;
    this.now = keys.now ?? (() => new Date());
    this.metrics = keys.metrics;
    this.auditor = keys.audit;
    this.recordings = { store: keys.recordings, failed: (kind) => this.recordingFailed(kind), log };
  }

  /** The recording store and its failure counter. */
  readonly recordings: RecordingDeps;
  readonly auditor: Auditor | undefined;

  /** The Attacher's clock (a seam for tests). */
  clock(): Date {
    return this.now();
  }

  /** The stamp key (approvals in a recording's header are only those that verify). */
  stampKey(): Buffer {
    return this.sealKey();
  }

  /** Counts a recording that could not be written. */
  recordingFailed(kind: string): void {
    this.metrics?.recordingFailed(kind);
  }

  /**
   * The session, read now, when `caller` may attach to it: it exists, the caller is its
   * subject, it is live and its status verifies. Else throws the ApiError to answer with.
   * The attach and the browser terminal's page (terminal.ts) are both decided here.
   */
  async attachable(caller: Person, namespace: string, name: string): Promise<ExecSession> {
    const s = await this.kube.getSession(namespace, name);
    if (!s) throw new ApiError(404, 'NotFound', `execsession ${namespace}/${name} not found; list yours with: kubectl execsession list -n ${namespace}`);
    const problem = notSubject(s, caller) ?? notAttachable(s, this.now()) ?? this.tampered(s);
    if (problem) throw problem;
    return s;
  }

  /** Checks the caller and the session and works out what to run; throws ApiError. */
  async prepare(caller: Person, namespace: string, name: string, query: URLSearchParams): Promise<AttachPlan> {
    const s = await this.attachable(caller, namespace, name);
    const key = `${namespace}/${name}`;
    // Checked and taken in one synchronous step, before the inspection's await:
    // attaches prepared side by side all count against the limit.
    const releaseSlot = this.reserve(key);
    try {
      // The recording is opened last: nothing after it can fail.
      const plan: AttachPlan = { ...(await this.plan(s, caller, key, query)), recording: await openRecording(this.recordings, s), release: () => {
        releaseSlot();
        // An attach that never starts leaves no recording behind (its Attachment took the writer first).
        void plan.recording.writer?.abort(new Error('the attach did not start'));
        plan.recording = { ...plan.recording, writer: undefined };
      } };
      return plan;
    } catch (e) {
      releaseSlot();
      throw e;
    }
  }

  /** Takes an attach slot of a session, or refuses with 429; returns its release (idempotent). */
  private reserve(key: string): () => void {
    if (this.count(key) >= this.cfg.limitPerSession) {
      throw new ApiError(429, 'TooManyAttaches', `execsession ${key} already has ${this.cfg.limitPerSession} attaches, the limit; detach one first`);
    }
    this.reserved.set(key, (this.reserved.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.reserved.get(key) ?? 1) - 1;
      if (left > 0) this.reserved.set(key, left);
      else this.reserved.delete(key);
    };
  }

  /** What the attach runs, and the helper argv that runs it, for a session the caller may attach to. */
  private async plan(s: ExecSession, caller: Person, key: string, query: URLSearchParams): Promise<Omit<AttachPlan, 'release' | 'recording'>> {
    const { namespace = '', name = '' } = s.metadata;
    const { command, tty, stdin, user } = processOf(s, key, query);
    const st = s.status ?? {};
    if (!st.helperPod || !st.containerID || !st.backend) throw new ApiError(500, 'InternalError', 'the session is Ready but status lacks its helper pod, container ID or backend');
    let argvFor: AttachPlan['argvFor'];
    try {
      const inspection = await this.helpers.inspect(st.helperPod, st.containerID);
      const job = jobFor({ backend: st.backend as BackendName, inspection, user, command, tty, containerID: st.containerID, sessionUid: s.metadata.uid ?? '' }, 'attach', 0);
      argvFor = (size) => this.helpers.attachArgv(size && job.backend === 'runtime'
        ? { ...job, spec: { ...job.spec, consoleSize: { height: size.Height, width: size.Width } } }
        : job);
    } catch (e) {
      throw new ApiError(500, 'InternalError', `could not prepare the process in the target container: ${e instanceof Error ? e.message : String(e)}`);
    }
    return {
      key, namespace, name, uid: s.metadata.uid ?? '', session: s, caller, helper: st.helperPod, argvFor, command, tty, stdin,
      expiresAt: expiresAtMs(st) ?? Number.POSITIVE_INFINITY,
    };
  }

  /** Starts relaying an accepted WebSocket: its reserved slot becomes a live attach. */
  start(plan: AttachPlan, client: WebSocket): void {
    const a = new Attachment(plan, client, this);
    plan.release();
    const set = this.live.get(plan.key) ?? new Set();
    set.add(a);
    this.live.set(plan.key, set);
    this.ensurePolling();
    this.metrics?.attach('started');
    this.log.info({ session: plan.key, user: plan.caller.username, command: plan.command, tty: plan.tty }, 'attach started');
    a.audit.attached();
    void this.record(plan, 'Attached', `${plan.caller.username} attached (${plan.tty ? 'tty, ' : ''}command ${JSON.stringify(plan.command)})`);
    void a.begin();
  }

  /** Called by an attachment when it has ended. */
  done(a: Attachment, status: ExecStatus | undefined): void {
    const set = this.live.get(a.plan.key);
    set?.delete(a);
    if (set?.size === 0) this.live.delete(a.plan.key);
    const message = a.describeEnd(status);
    this.log.info({ session: a.plan.key, user: a.plan.caller.username, status: status?.reason ?? status?.status }, 'attach ended');
    a.audited(status);
    void this.record(a.plan, 'Detached', message);
  }

  /** Ends every attach to a session now (revocation, or the session ended). */
  endSession(key: string, status: ExecStatus, lastLine: string): void {
    for (const a of [...(this.live.get(key) ?? [])]) a.finish(status, lastLine);
  }

  /** Milliseconds from now (the Attacher's clock) until `at` (epoch ms). */
  msUntil(at: number): number {
    return at - this.now().getTime();
  }

  /** Moves the end of every attach to a session (after an extend). */
  updateExpiry(key: string, expiresAt: number): void {
    for (const a of this.live.get(key) ?? []) a.scheduleExpiry(expiresAt);
  }

  /** How many attaches this replica serves, or is preparing, for a session. */
  count(key: string): number {
    return (this.live.get(key)?.size ?? 0) + (this.reserved.get(key) ?? 0);
  }

  /** Why the session behind an attach has ended, if it has. */
  async whyEnded(plan: AttachPlan): Promise<ExecStatus | undefined> {
    return this.endOf(plan, await this.kube.getSession(plan.namespace, plan.name));
  }

  /** Why `s`, as just read, no longer takes the attach of `plan`, if it does not. */
  private endOf(plan: AttachPlan, s: ExecSession | undefined): ExecStatus | undefined {
    if (!s || s.metadata.uid !== plan.uid) return failureStatus('Ended', `session ${plan.key} was deleted`, 410);
    const e = notAttachable(s, this.now()) ?? this.tampered(s);
    return e ? failureStatus(e.reason, e.message, e.code) : undefined;
  }

  /** A live session whose status someone else wrote: nothing in it (user, container, helper, expiry) is used. */
  private tampered(s: ExecSession): ApiError | undefined {
    const problem = sealProblem(this.sealKey(), s);
    if (!problem) return undefined;
    return new ApiError(403, 'StatusTampered', `execsession ${s.metadata.namespace}/${s.metadata.name} cannot be attached to: ${problem}; the operator ends it. Create a new session`);
  }

  /** Stops every attach (operator shutdown). */
  close(): void {
    if (this.poller) clearInterval(this.poller);
    for (const [key, set] of [...this.live]) {
      const plan = [...set][0]?.plan;
      const again = plan ? `attach again with: kubectl execsession attach ${plan.name} -n ${plan.namespace}` : 'attach again';
      // The session itself lives on (another replica serves it); only this connection is cut.
      this.endSession(key, failureStatus('ServiceUnavailable', `the execsession operator is restarting and cut this attach; the session is still live: ${again}`, 503), `the operator is restarting; ${again}`);
    }
  }

  private ensurePolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => void this.poll(), this.cfg.pollMs);
    this.poller.unref();
  }

  /** Re-reads sessions with attaches: revocations and ends elsewhere, and extensions. */
  private async poll(): Promise<void> {
    if (this.live.size === 0) {
      if (this.poller) clearInterval(this.poller);
      this.poller = undefined;
      return;
    }
    for (const [key, set] of this.live) {
      const plan = [...set][0]?.plan;
      if (!plan) continue;
      try {
        const s = await this.kube.getSession(plan.namespace, plan.name);
        const ended = this.endOf(plan, s);
        const expiresAt = expiresAtMs(s?.status);
        // A moved expiry counts only from a status that verifies (an extend).
        if (s && ended?.reason !== 'StatusTampered' && expiresAt !== undefined && expiresAt !== plan.expiresAt) this.updateExpiry(key, expiresAt);
        // Expiry is the timer's job, to the second; everything else ends here.
        if (ended && ended.reason !== 'Expired') this.endSession(key, ended, ended.message ?? 'the session has ended');
      } catch (e) {
        this.log.warn({ err: apiMessage(e), session: key }, 'attach: could not re-read the session');
      }
    }
  }

  private async record(plan: AttachPlan, reason: string, message: string): Promise<void> {
    await this.kube.recordEvent(plan.session, { type: 'Normal', reason, message }).catch((e: unknown) => this.log.warn({ err: apiMessage(e) }, 'could not record event'));
  }
}
