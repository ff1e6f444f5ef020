/**
 * A one-shot command's recording (ADR 43). The helper keeps the job's stdout
 * and stderr whole (up to a limit) in files, and a `ticks` file of lines
 * `UPTIME OUT ERR`: how many bytes of each there were at a moment, taken every
 * quarter second while they grow. Replaying the ticks gives asciicast `o`
 * events timed to within a tick, stdout's bytes of a tick before stderr's.
 * The files are read in blocks, one at a time, so copying any size holds
 * about two blocks and the recorder's backlog in memory.
 */
import { CastRecorder, type CastHeader } from './cast.js';
import type { RecordingWriter } from './store.js';

/** The helper's block size (its `block` sub-command reads 1 MiB). */
export const JOB_BLOCK = 1 << 20;

/**
 * The most output in one `o` event. Smaller than a block: a 1 MiB event becomes
 * strings of 1 MiB and more, which V8 puts in its large-object space, freed only
 * by a full collection; copying 64 MiB in 1 MiB events raised the operator's RSS
 * by 64 MiB, in 64 KiB events by a few (ADR 43).
 */
export const JOB_EVENT_BYTES = 64 << 10;

/** The files a job keeps. */
export type JobFile = 'out' | 'err' | 'ticks';

/** Block `n` of a job's file: JOB_BLOCK bytes, fewer at its end, none past it. */
export type ReadBlock = (file: JobFile, n: number) => Promise<Buffer>;

/** One line of `ticks`: seconds of the node's uptime, and the sizes of out and err then. */
export interface Tick {
  t: number;
  out: number;
  err: number;
}

/** A `ticks` line, or undefined when it is not one. */
export function parseTick(line: string): Tick | undefined {
  const m = /^(\d+(?:\.\d+)?) (\d+) (\d+)$/.exec(line.trim());
  return m ? { t: Number(m[1]), out: Number(m[2]), err: Number(m[3]) } : undefined;
}

/** The ticks file, line by line, read a block at a time. */
async function* readTicks(read: ReadBlock): AsyncGenerator<Tick> {
  let rest = '';
  for (let n = 0; ; n += 1) {
    const block = await read('ticks', n);
    const lines = (rest + block.toString('latin1')).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      const tick = parseTick(l);
      if (tick) yield tick;
    }
    if (block.length < JOB_BLOCK) break;
  }
  const last = parseTick(rest);
  if (last) yield last;
}

/** Reads bytes of one file in order, holding one block. */
class BlockReader {
  private index = -1;
  private data: Buffer = Buffer.alloc(0);

  constructor(private readonly file: JobFile, private readonly read: ReadBlock) {}

  /** Bytes [from, to), in pieces of at most a block. */
  async *range(from: number, to: number): AsyncGenerator<Buffer> {
    for (let at = from; at < to;) {
      const n = Math.floor(at / JOB_BLOCK);
      if (n !== this.index) {
        this.data = await this.read(this.file, n);
        this.index = n;
      }
      const piece = this.data.subarray(at - n * JOB_BLOCK, Math.min(this.data.length, to - n * JOB_BLOCK));
      if (piece.length === 0) throw new Error(`the job's ${this.file} ends at byte ${at}, before ${to} that its ticks count`);
      yield piece;
      at += piece.length;
    }
  }
}

/** Where a job's output goes, in order, timed: a JobCast, or a test's list. */
export interface JobOutputSink {
  /** The time of what follows, in seconds from the job's start. */
  at(seconds: number): void;
  output(data: Buffer, stream: 'stdout' | 'stderr'): void;
  /** Resolves when the sink can take more. */
  drained(): Promise<void>;
}

/** What was copied: bytes of each stream, and the last tick's time (s from the start). */
export interface Transcribed {
  out: number;
  err: number;
  seconds: number;
}

/** Bytes [from, to) of one file into the sink, in events of at most JOB_EVENT_BYTES, each taken before the next. */
async function copyRange(reader: BlockReader, from: number, to: number, output: (piece: Buffer) => void, sink: JobOutputSink): Promise<void> {
  for await (const piece of reader.range(from, to)) {
    for (let at = 0; at < piece.length; at += JOB_EVENT_BYTES) {
      output(piece.subarray(at, at + JOB_EVENT_BYTES));
      await sink.drained();
    }
  }
}

/**
 * Copies a finished job's output into `sink`, timed by its ticks: for each
 * tick, the stdout bytes that came since the last one, then the stderr bytes.
 */
export async function transcribeJob(read: ReadBlock, sink: JobOutputSink): Promise<Transcribed> {
  const readers = { stdout: new BlockReader('out', read), stderr: new BlockReader('err', read) };
  const done = { stdout: 0, stderr: 0 };
  let start: number | undefined;
  let seconds = 0;
  for await (const tick of readTicks(read)) {
    start ??= tick.t;
    // The uptime never goes back; a line that says so is taken as the time before it.
    seconds = Math.max(seconds, tick.t - start);
    sink.at(seconds);
    for (const [stream, size] of [['stdout', tick.out], ['stderr', tick.err]] as const) {
      await copyRange(readers[stream], done[stream], size, (piece) => sink.output(piece, stream), sink);
      done[stream] = Math.max(done[stream], size);
    }
  }
  return { out: done.stdout, err: done.stderr, seconds };
}

/**
 * A CastRecorder whose clock is the job's ticks, not the operator's: the
 * header is written when it is made (so a store that cannot be written is
 * known before the job starts), the output when the job has ended.
 */
export class JobCast implements JobOutputSink {
  private ms = 0;
  private readonly recorder: CastRecorder;

  constructor(readonly writer: RecordingWriter, header: CastHeader, onFailure: (e: Error) => void) {
    this.recorder = new CastRecorder(writer, header, 0, () => this.ms, onFailure);
  }

  at(seconds: number): void {
    this.ms = Math.max(this.ms, seconds * 1000);
  }

  output(data: Buffer, stream: 'stdout' | 'stderr'): void {
    this.recorder.output(data, stream);
  }

  drained(): Promise<void> {
    return this.recorder.drained();
  }

  /** A note in the recording (an asciicast `m` marker), e.g. that output past the kept limit is missing. */
  marker(label: string): void {
    this.recorder.marker(label);
  }

  /** The exit marker: the exit code, or why the job's recording ended without one. */
  exit(codeOrReason: number | string): void {
    this.recorder.exit(codeOrReason);
  }

  /** Why the store failed, once it has. */
  get failed(): Error | undefined {
    return this.recorder.failed;
  }

  /** Completes the recording; rejects with the store's error when it could not. */
  async close(): Promise<void> {
    await this.recorder.close();
    if (this.recorder.failed) throw this.recorder.failed;
  }
}
