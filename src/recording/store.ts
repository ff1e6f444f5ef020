/**
 * Where recordings go: one small interface that a directory (file-store.ts)
 * and an S3 bucket (s3-store.ts: write buffers up to a part and uploads it,
 * close completes the upload) implement. Recordings are keyed by the
 * session's uid, so they outlive the ExecSession and a re-created session of
 * the same name never mixes with an old one.
 */
import type { Readable } from 'node:stream';

/** Which session a recording belongs to. */
export interface RecordingKey {
  namespace: string;
  name: string;
  uid: string;
}

/** One stored recording of a session: the Nth attach (from 1), or the one-shot command (0). */
export interface RecordingEntry extends RecordingKey {
  attach: number;
  /** Bytes stored so far. */
  size: number;
  /** When the recording was created (RFC 3339). */
  createdAt: string;
}

/** A recording being written: lines in order, each resolved once the store has taken it (backpressure). */
export interface RecordingWriter {
  /** Which attach this is. */
  readonly attach: number;
  /** Appends bytes; resolves when the store can take more, rejects when it cannot write. */
  write(chunk: string): Promise<void>;
  /** Completes the recording; rejects when the store could not keep it. */
  close(): Promise<void>;
  /** Gives up (what was written may stay, as a truncated recording). */
  abort(reason: Error): Promise<void>;
}

/** A recording store: `file` or `s3`. */
export interface RecordingStore {
  /** How the store is named in messages and metrics, e.g. `file:/var/lib/execsession/recordings`. */
  readonly description: string;
  /** The metrics label: `file`, `s3`. */
  readonly kind: string;
  /** Starts the next recording of a session; rejects, with a message naming the store, when it cannot be written. */
  create(key: RecordingKey): Promise<RecordingWriter>;
  /** A session's recordings, oldest first; `uid` empty: the newest uid stored under namespace/name. */
  list(key: RecordingKey): Promise<RecordingEntry[]>;
  /** One recording's bytes, streamed; undefined when there is none. */
  open(key: RecordingKey, attach: number): Promise<Readable | undefined>;
  /** Why the store cannot be written now, or undefined when it can (checked at start, for the log). */
  problem(): Promise<string | undefined>;
  /** Deletes the sessions' recordings nothing was added to since `beforeMs`; resolves with how many sessions (uids) went. */
  prune(beforeMs: number): Promise<number>;
  /**
   * Keeps one audit event (a JSON object, `line`, with its stable `id`) with the
   * session's recordings (docs/audit.md, "Audit events"); rejects when it cannot.
   */
  appendAudit(key: RecordingKey, id: string, line: string): Promise<void>;
}

/** The file that holds a session's audit events in its folder (file store). */
export const AUDIT_FILE = 'audit.jsonl';

/** Names as Kubernetes spells them: nothing here can climb out of a directory or a key prefix. */
const SAFE = /^[a-z0-9][a-z0-9.-]{0,252}$/;
/** A uid as Kubernetes makes them. */
export const SAFE_UID = /^[a-zA-Z0-9-]{1,64}$/;

/** Throws unless the key's parts are a Kubernetes namespace, name and (withUid) uid. */
export function checkKey(key: RecordingKey, withUid: boolean): void {
  if (!SAFE.test(key.namespace) || !SAFE.test(key.name) || key.namespace.includes('..') || key.name.includes('..')) throw new Error(`not a namespace/name: ${key.namespace}/${key.name}`);
  if (withUid && !SAFE_UID.test(key.uid)) throw new Error(`not a uid: ${key.uid}`);
}

/** A recording's file name in its session's folder (or under its key prefix). */
export function castName(attach: number): string {
  return `attach-${attach}.cast`;
}

/** The attach number of a file name, or undefined when it is not a recording. */
export function attachOf(file: string): number | undefined {
  const m = /^attach-(\d+)\.cast$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** A store that cannot be written, with the reason (an attach under `Required` is refused with it). */
export class RecordingStoreError extends Error {
  constructor(readonly store: string, message: string) {
    super(`recording store ${store}: ${message}`);
  }
}
