/**
 * Recordings of one-shot commands (ADR 43), kept by the leader: opened before
 * the job starts (so a store that cannot be written stops a job that must be
 * recorded), filled from the helper's kept output once the job has ended, and
 * completed before the session's end is written (the helper, and the output
 * on its disk, go with the end). An operator that restarts in between loses
 * only the open file: the next leader copies the whole output, from the
 * helper's files, into a new recording; one it opened and could not fill is
 * completed with an exit marker that says why, never dropped unsaid.
 */
import type { ContainerUser, ExecSession } from '../api/types.js';
import { castHeader } from '../apiserver/recording.js';
import type { Auditor } from '../audit/auditor.js';
import { recordingStored } from '../audit/steps.js';
import type { JobResult } from '../exec/helper-client.js';
import type { Logger } from '../log/logger.js';
import { JobCast, transcribeJob, type ReadBlock } from '../recording/job-cast.js';
import { parseRecordingMode, type RecordingMode } from '../recording/mode.js';
import { castName, type RecordingStore } from '../recording/store.js';
import type { Clock } from './collaborators.js';

/** What a JobRecordings is built from. */
export interface JobRecordingDeps {
  /** Undefined: --recording-store=none. */
  store: RecordingStore | undefined;
  stampKey: () => Buffer;
  log: Logger;
  now: Clock;
  audit?: Pick<Auditor, 'emit'>;
  /** A recording that could not be written (execsession_recording_failures_total). */
  failed?: (kind: string) => void;
}

/** The id that names a one-shot command's recording in the audit events (an attach's is a UUID). */
export const COMMAND_RECORDING_ID = 'command';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function keyOf(s: ExecSession): string {
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

/** The one-shot commands' recordings this replica has open, by session uid. */
export class JobRecordings {
  private readonly open = new Map<string, JobCast>();

  constructor(private readonly d: JobRecordingDeps) {}

  /** Whether the job's output should be kept whole on the helper (for its recording). */
  records(mode: RecordingMode): boolean {
    return mode !== 'Off' && this.d.store !== undefined;
  }

  /**
   * Opens the recording of the job about to start, its header written.
   * Returns why the job must not start (recording: Required and the store
   * cannot be written), else undefined (BestEffort goes on unrecorded).
   */
  async begin(s: ExecSession, mode: RecordingMode, user: ContainerUser): Promise<string | undefined> {
    const uid = s.metadata.uid ?? '';
    if (mode === 'Off' || this.open.has(uid)) return undefined;
    try {
      this.open.set(uid, await this.create(s, user));
      return undefined;
    } catch (e) {
      return this.notRecorded(s, mode, messageOf(e));
    }
  }

  /**
   * Copies the ended job's output into its recording and completes it.
   * Returns why, under Required, the outcome must be recorded as failed (the
   * store failed); undefined when stored, or not to be recorded. A helper that
   * cannot be read throws (the reconcile retries, into a new recording).
   */
  async finish(s: ExecSession, result: JobResult, read: ReadBlock): Promise<string | undefined> {
    const uid = s.metadata.uid ?? '';
    const mode = parseRecordingMode(s.status?.recording?.mode) ?? 'Off';
    let cast = this.open.get(uid);
    this.open.delete(uid);
    if (mode === 'Off') return undefined;
    try {
      // Opened by an earlier leader (or not at all, under BestEffort): a new one, from the helper's files.
      cast ??= await this.create(s, s.status?.user);
    } catch (e) {
      return this.notRecorded(s, mode, messageOf(e));
    }
    try {
      await transcribeJob(read, cast);
    } catch (e) {
      // The helper could not be read: this copy says so and ends; the reconcile's retry makes a complete one.
      cast.exit(`incomplete: ${messageOf(e)}`);
      await cast.close().catch(() => undefined);
      throw e;
    }
    for (const [stream, bytes] of Object.entries(result.beyondKept ?? {})) {
      if (bytes > 0) cast.marker(`${bytes} bytes of ${stream} past the helper's --recorded-output-limit were not kept`);
    }
    cast.exit(result.exitCode);
    try {
      await cast.close();
    } catch (e) {
      return this.notRecorded(s, mode, messageOf(e));
    }
    this.stored(s, cast.writer.attach);
    return undefined;
  }

  /**
   * The session ended another way while its job ran (expired, revoked, helper
   * gone): the recording this replica opened is completed with the phase as
   * its exit marker, and says nothing more, as the output went with the helper.
   */
  async abandon(s: ExecSession): Promise<void> {
    const uid = s.metadata.uid ?? '';
    const cast = this.open.get(uid);
    if (!cast) return;
    this.open.delete(uid);
    cast.exit(`${s.status?.phase ?? 'Ended'} before the output was copied`);
    await cast.close().catch(() => undefined);
    this.d.log.warn({ session: keyOf(s), recording: castName(cast.writer.attach) }, 'one-shot command: its recording holds no output (the session ended while the command ran)');
  }

  private async create(s: ExecSession, user: ContainerUser | undefined): Promise<JobCast> {
    const { store } = this.d;
    if (!store) throw new Error('the operator has no recording store (--recording-store=none); an admin must configure one (docs/audit.md, "Recordings")');
    const writer = await store.create({ namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '', uid: s.metadata.uid ?? '' });
    const withUser: ExecSession = user ? { ...s, status: { ...s.status, user } } : s;
    const header = castHeader(withUser, this.d.stampKey(), { width: 80, height: 24 }, s.spec.command ?? [], this.d.now().getTime());
    // A failed write is counted once, where finish sees it (notRecorded).
    return new JobCast(writer, header, () => undefined);
  }

  /**
   * Counts and logs a recording that could not be made; the message when the mode
   * requires one. Without a store (--recording-store=none) nothing failed: BestEffort
   * goes on unlogged, as an attach does.
   */
  private notRecorded(s: ExecSession, mode: RecordingMode, why: string): string | undefined {
    const store = this.d.store?.description ?? 'none';
    if (!this.d.store) return mode === 'Required' ? `the command must be recorded (recording: Required) but ${why}` : undefined;
    this.d.failed?.(this.d.store.kind);
    if (mode === 'Required') return `the command must be recorded (recording: Required) and ${why.startsWith('recording store') ? why : `recording store ${store}: ${why}`}`;
    this.d.log.warn({ session: keyOf(s), store, err: why }, 'one-shot command: not recorded (recording: BestEffort)');
    return undefined;
  }

  private stored(s: ExecSession, attach: number): void {
    const { namespace = '', name = '', uid = '' } = s.metadata;
    this.d.audit?.emit(recordingStored(s, COMMAND_RECORDING_ID, `${this.d.store?.description} ${namespace}/${name}/${uid}/${castName(attach)}`, this.d.now()));
  }
}
