/**
 * Recordings in the aggregated API: what an attach is recorded into (decided
 * before the WebSocket is accepted, so that an attach that must be recorded
 * and cannot be is refused with the store's name), the asciicast header that
 * names the session, and the `recording` subresource that reads them back.
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { sessionSubject } from '../api/subject.js';
import { parseRecordingMode, type RecordingMode } from '../recording/mode.js';
import { CastRecorder, type CastHeader } from '../recording/cast.js';
import { Channel, parseResize } from '../api/channels.js';
import type { RecordingStore, RecordingWriter } from '../recording/store.js';
import { verifyApproval } from '../approval/approvals.js';
import type { ExecSession } from '../api/types.js';
import type { Logger } from '../log/logger.js';
import { ApiError } from './types.js';

/** How one attach is recorded: the session's mode, and the writer when the store took it. */
export interface AttachRecording {
  mode: RecordingMode;
  input: boolean;
  /** The store's name, for messages. */
  store: string;
  /** The store's kind, for metrics. */
  kind: string;
  writer?: RecordingWriter;
}

/** Where recordings go and what happens when they cannot. */
export interface RecordingDeps {
  /** Undefined: the operator runs with --recording-store=none. */
  store: RecordingStore | undefined;
  /** A recording that could not be written (counts execsession_recording_failures_total). */
  failed: (kind: string) => void;
  log: Logger;
}

/**
 * Opens the recording of an attach to `s`, as its sealed status.recording asks.
 * Required and the store cannot be written: a 503 that names the store.
 * BestEffort: logged and counted, and the attach goes on unrecorded.
 */
export async function openRecording(deps: RecordingDeps, s: ExecSession): Promise<AttachRecording> {
  const rec = s.status?.recording;
  // Sessions that went live before recordings existed carry no mode: BestEffort.
  const mode = parseRecordingMode(rec?.mode) ?? 'BestEffort';
  const { store } = deps;
  const base = { mode, input: mode !== 'Off' && rec?.input === true, store: store?.description ?? 'none', kind: store?.kind ?? 'none' };
  if (mode === 'Off') return base;
  const key = `${s.metadata.namespace}/${s.metadata.name}`;
  if (!store) {
    if (mode === 'Required') {
      throw new ApiError(503, 'RecordingUnavailable', `execsession ${key} must be recorded (recording: Required) but the operator has no recording store (--recording-store=none); an admin must configure one (docs/audit.md, "Recordings")`);
    }
    return base;
  }
  try {
    return { ...base, writer: await store.create({ namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '', uid: s.metadata.uid ?? '' }) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    deps.failed(store.kind);
    if (mode === 'Required') throw new ApiError(503, 'RecordingUnavailable', `execsession ${key} must be recorded (recording: Required) and ${why}; try again once the store is writable, or ask an admin`);
    deps.log.warn({ session: key, store: store.description, err: why }, 'attach: not recorded (recording: BestEffort)');
    return base;
  }
}

/**
 * One attach's recording as the relay feeds it frames: nothing happens
 * without a writer (Off, or BestEffort with the store down), or after the
 * store failed (`onFailure` has run then).
 */
export class RelayRecording {
  private recorder: CastRecorder | undefined;
  private readonly writer: RecordingWriter | undefined;

  private failed = false;

  /** `onStored`: the recording is complete in the store (its number), for the audit event. */
  constructor(private readonly rec: AttachRecording, private readonly onFailure: (e: Error) => void, private readonly onStored?: (attach: number) => void) {
    this.writer = rec.writer;
  }

  /** Starts the asciicast, sized as the terminal was when the process started (80x24 without one). */
  start(s: ExecSession, stampKey: Buffer, size: { Width: number; Height: number } | undefined, command: string[]): void {
    if (!this.writer) return;
    const now = Date.now();
    const header = castHeader(s, stampKey, { width: size?.Width || 80, height: size?.Height || 24 }, command, now);
    this.recorder = new CastRecorder(this.writer, header, now, Date.now, (e) => {
      this.recorder = undefined;
      this.failed = true;
      this.onFailure(e);
    });
  }

  /** A stdout or stderr frame, as the user got it. */
  output(frame: Buffer): void {
    this.recorder?.output(frame.subarray(1), frame[0] === Channel.Stderr ? 'stderr' : 'stdout');
  }

  /** A stdin frame: recorded only where status.recording.input asks. */
  input(frame: Buffer): void {
    if (this.rec.input) this.recorder?.input(frame.subarray(1));
  }

  /** A resize frame. */
  resize(frame: Buffer): void {
    const size = parseResize(frame.subarray(1));
    if (size) this.recorder?.resize(size.Width, size.Height);
  }

  exit(code: number): void {
    this.recorder?.exit(code);
  }

  /** Bytes the store has not taken yet. */
  get backlog(): number {
    return this.recorder?.backlog ?? 0;
  }

  drained(): Promise<void> {
    return this.recorder?.drained() ?? Promise.resolve();
  }

  /**
   * The last line the user saw, the exit marker when the process gave no code
   * (`reason`: why the attach ended), and the file completed. An attach that
   * never started leaves no recording.
   */
  end(reason: string | undefined, lastLine: string | undefined, tty: boolean): void {
    const recorder = this.recorder;
    if (!recorder) {
      if (this.writer) void this.writer.abort(new Error('the attach never started'));
      return;
    }
    if (lastLine) recorder.output(Buffer.from(lastLine), tty ? 'stdout' : 'stderr');
    if (reason !== undefined) recorder.exit(reason);
    const { writer } = this;
    void recorder.close().then(() => {
      if (!this.failed && writer) this.onStored?.(writer.attach);
    });
  }
}

/** The asciicast header of an attach: the terminal and who did what, as whom, approved by whom. */
export function castHeader(s: ExecSession, stampKey: Buffer, size: { width: number; height: number }, command: string[], startMs: number): CastHeader {
  const { namespace = '', name = '', uid = '' } = s.metadata;
  const u = s.status?.user;
  const approvers = (s.status?.approvals ?? [])
    .filter((a) => a.decision === 'Approved' && verifyApproval(stampKey, { namespace, name, uid }, a))
    .map((a) => a.username);
  const env: Record<string, string> = { TERM: 'xterm-256color' };
  if (u?.shell) env.SHELL = u.shell;
  return {
    width: size.width, height: size.height, timestamp: Math.floor(startMs / 1000), env,
    execsession: {
      namespace, name, uid, pod: s.spec.podName, container: s.status?.container ?? s.spec.container ?? '',
      containerUser: { ...(u?.name ? { name: u.name } : {}), uid: u?.uid ?? -1, gid: u?.gid ?? -1 },
      subject: sessionSubject(s.spec).username, approvers, ...(s.spec.reason ? { reason: s.spec.reason } : {}), command,
    },
  };
}

/**
 * GET .../execsessions/NAME/recording: without `attach`, the session's
 * recordings as a list; with `attach=N`, that cast (application/x-asciicast),
 * streamed. `uid` picks a deleted session's recordings when the name was reused.
 */
export async function serveRecording(store: RecordingStore | undefined, target: { namespace: string; name: string }, query: URLSearchParams, uidNow: string | undefined, res: ServerResponse): Promise<void> {
  if (!store) throw new ApiError(404, 'NotFound', 'this operator keeps no recordings (--recording-store=none)');
  const key = { namespace: target.namespace, name: target.name, uid: query.get('uid') ?? uidNow ?? '' };
  const attach = query.get('attach');
  if (attach === null) {
    const items = await store.list(key);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'RecordingList', apiVersion: 'v1', items }));
    return;
  }
  if (!/^\d{1,9}$/.test(attach)) throw new ApiError(400, 'BadRequest', `attach must be a recording's number, got "${attach.slice(0, 40)}"; list them with: kubectl execsession replay ${target.name} -n ${target.namespace} --list`);
  const body = await store.open(key, Number(attach));
  if (!body) throw new ApiError(404, 'NotFound', `execsession ${target.namespace}/${target.name} has no recording ${attach}${key.uid ? ` (uid ${key.uid})` : ''}`);
  res.writeHead(200, { 'Content-Type': 'application/x-asciicast' });
  await pipeline(body, res);
}
