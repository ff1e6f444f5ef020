/**
 * An asciicast v2 recorder (https://docs.asciinema.org/manual/asciicast/v2/):
 * a header line, then one JSON array per event, `[seconds, code, data]`:
 * `o` output (stdout and stderr as the user saw them), `i` input (only when
 * asked), `r` resize ("WxH"), `m` a marker (a note), and `x` the exit marker, which asciicast v2 does
 * not define and asciinema 2.2's `cat` and `play` skip (ADR 30). Events are
 * written to the store as they come, never kept whole: the recorder holds
 * only what the store has not taken yet, and says so (`backlog`) so the relay
 * can pause its source.
 */
import { StringDecoder } from 'node:string_decoder';
import type { RecordingWriter } from './store.js';

/** The session facts in the header's `execsession` key. */
export interface CastSession {
  namespace: string;
  name: string;
  uid: string;
  pod: string;
  container: string;
  containerUser: { name?: string; uid: number; gid: number };
  subject: string;
  approvers: string[];
  reason?: string;
  command?: string[];
}

/** The header's fields we set. */
export interface CastHeader {
  width: number;
  height: number;
  /** Start, epoch seconds. */
  timestamp: number;
  env?: Record<string, string>;
  execsession: CastSession;
}

/** A backlog above this asks the relay to pause its source. */
export const RECORDER_HIGH_WATER = 1 << 20;

/** Records one attach into a store writer. */
export class CastRecorder {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private failure: Error | undefined;
  private readonly decoders = new Map<string, StringDecoder>();
  private readonly drainWaiters: (() => void)[] = [];
  private closed = false;
  /** The terminal's size as last recorded: a resize to the same size is not an event. */
  private size: string;

  /**
   * `onFailure` runs once, when the store cannot take a write (the relay ends
   * the attach under `Required`, or goes on unrecorded under `BestEffort`).
   */
  constructor(private readonly writer: RecordingWriter, header: CastHeader, private readonly startMs: number, private readonly now: () => number, private readonly onFailure: (e: Error) => void) {
    this.size = `${header.width}x${header.height}`;
    this.push(`${JSON.stringify({ version: 2, ...header })}\n`);
  }

  /** The attach's number in the store. */
  get attach(): number {
    return this.writer.attach;
  }

  /** Bytes handed to the store and not yet taken. */
  get backlog(): number {
    return this.pending;
  }

  /** Why the store failed, once it has. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves when the backlog is below the high water mark (or the recording failed). */
  drained(): Promise<void> {
    if (this.pending < RECORDER_HIGH_WATER || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Output the user saw (stdout or stderr), raw bytes of the terminal. */
  output(data: Buffer, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.event('o', this.decode(stream, data));
  }

  /** Input the user typed (only called when the policy asks for it). */
  input(data: Buffer): void {
    this.event('i', this.decode('stdin', data));
  }

  resize(width: number, height: number): void {
    const size = `${width}x${height}`;
    if (size === this.size) return;
    this.size = size;
    this.event('r', size);
  }

  /** A marker (asciicast v2 `m`): a note at this point of the recording. */
  marker(label: string): void {
    this.event('m', label);
  }

  /** The exit marker: the process's exit code, or why the attach ended. */
  exit(codeOrReason: number | string): void {
    this.event('x', String(codeOrReason));
  }

  /** Writes what is left and completes the recording. */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    for (const [stream, d] of this.decoders) {
      const rest = d.end();
      if (rest) this.event(stream === 'stdin' ? 'i' : 'o', rest, true);
    }
    this.chain = this.chain.then(() => (this.failure ? this.writer.abort(this.failure) : this.writer.close()));
    return this.chain.catch((e: unknown) => this.fail(e));
  }

  /** Splits bytes into text at character boundaries: a UTF-8 character cut by a frame waits for its rest. */
  private decode(stream: string, data: Buffer): string {
    let d = this.decoders.get(stream);
    if (!d) this.decoders.set(stream, (d = new StringDecoder('utf8')));
    return d.write(data);
  }

  private event(code: string, data: string, evenClosed = false): void {
    if (data === '' && code !== 'x' && code !== 'm') return;
    if (this.closed && !evenClosed) return;
    const t = Math.max(0, (this.now() - this.startMs) / 1000);
    this.push(`${JSON.stringify([Number(t.toFixed(6)), code, data])}\n`);
  }

  private push(line: string): void {
    if (this.failure) return;
    const size = Buffer.byteLength(line);
    this.pending += size;
    this.chain = this.chain.then(() => (this.failure ? undefined : this.writer.write(line))).then(
      () => this.taken(size),
      (e: unknown) => { this.taken(size); this.fail(e); },
    );
  }

  private taken(size: number): void {
    this.pending -= size;
    if (this.pending < RECORDER_HIGH_WATER) for (const w of this.drainWaiters.splice(0)) w();
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e instanceof Error ? e : new Error(String(e));
    for (const w of this.drainWaiters.splice(0)) w();
    this.onFailure(this.failure);
  }
}
