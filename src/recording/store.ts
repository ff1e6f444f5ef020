/**
 * Where recordings go: one small interface that a directory (file-store.ts)
 * implements now and an S3 bucket can later (create = start a multipart
 * upload, write = buffer up to a part and upload it, close = complete, abort =
 * abort the upload). Recordings are keyed by the session's uid, so they
 * outlive the ExecSession and a re-created session of the same name never
 * mixes with an old one.
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

/** A recording store: the `file` store now, `s3` later. */
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
}

/** A store that cannot be written, with the reason (an attach under `Required` is refused with it). */
export class RecordingStoreError extends Error {
  constructor(readonly store: string, message: string) {
    super(`recording store ${store}: ${message}`);
  }
}
