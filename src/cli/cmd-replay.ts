/**
 * `replay`: reads a session's recording through the aggregated API's
 * `recording` subresource (RBAC: get execsessions/recording) and plays it in
 * the terminal with its recorded timing, or writes the asciicast file (-o cast)
 * for asciinema and other players. The recording is streamed, line by line,
 * never read whole.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { subresourcePath } from '../api/subresources.js';
import type { GlobalOptions } from './client.js';
import { print, printErr, type CliContext } from './context.js';
import { CliError, UsageError } from './errors.js';

export interface ReplayFlags {
  speed?: string;
  attach?: string;
  output?: string;
  list?: boolean;
  uid?: string;
  /** Longest pause played, in seconds (asciinema's --idle-time-limit). */
  idleLimit?: string;
}

/** One entry of the subresource's RecordingList. */
interface RecordingEntry {
  uid: string;
  attach: number;
  size: number;
  createdAt: string;
}

/** How a replay waits; a seam for tests. */
export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number above 0, e.g. ${flag} 2, got "${v}"`);
  return n;
}

/**
 * Plays a cast: each output event's data at its time, divided by `speed`,
 * pauses cut to `idleLimitS`. Resolves with the exit marker ("x" event), if any.
 */
export async function playCast(cast: Readable, out: Writable, speed: number, idleLimitS: number, sleep: Sleep = realSleep): Promise<string | undefined> {
  let last = 0;
  let exit: string | undefined;
  let first = true;
  for await (const line of createInterface({ input: cast, crlfDelay: Infinity })) {
    if (first) {
      first = false;
      const header = JSON.parse(line) as { version?: number };
      if (header.version !== 2) throw new CliError(`the recording is not asciicast v2 (version ${String(header.version)})`);
      continue;
    }
    if (!line.trim()) continue;
    const [t, code, data] = JSON.parse(line) as [number, string, string];
    if (code === 'x') exit = data;
    if (code !== 'o') continue;
    const pause = Math.min(Math.max(0, t - last), idleLimitS);
    last = t;
    if (pause > 0) await sleep((pause * 1000) / speed);
    if (!out.write(data)) await new Promise((r) => out.once('drain', r));
  }
  return exit;
}

async function listOf(ctx: CliContext, globals: GlobalOptions, name: string, uid: string | undefined): Promise<{ namespace: string; items: RecordingEntry[]; stream: (n: number) => Promise<Readable> }> {
  const api = await ctx.connect(globals);
  const path = subresourcePath(api.namespace, name, 'recording');
  const q = uid ? `&uid=${encodeURIComponent(uid)}` : '';
  const list = await api.request<{ items?: RecordingEntry[] }>('GET', `${path}${uid ? `?uid=${encodeURIComponent(uid)}` : ''}`);
  return { namespace: api.namespace, items: list.items ?? [], stream: (n) => api.stream(`${path}?attach=${n}${q}`, 'application/x-asciicast') };
}

/** Runs `replay NAME`. */
export async function runReplay(ctx: CliContext, globals: GlobalOptions, name: string, flags: ReplayFlags, sleep: Sleep = realSleep): Promise<number> {
  if (flags.output !== undefined && flags.output !== 'cast') throw new UsageError(`-o ${flags.output}: use -o cast to write the asciicast file`);
  const speed = positive('--speed', flags.speed, 1);
  const idle = positive('--idle-limit', flags.idleLimit, Number.POSITIVE_INFINITY);
  const wanted = flags.attach === undefined ? undefined : Number(flags.attach);
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 0)) throw new UsageError(`--attach must be a recording's number (see --list), got "${flags.attach}"`);
  const { namespace, items, stream } = await listOf(ctx, globals, name, flags.uid);
  if (flags.list) {
    print(ctx, ['ATTACH  SIZE  CREATED  UID', ...items.map((e) => `${e.attach}  ${e.size}  ${e.createdAt}  ${e.uid}`)].join('\n'));
    return 0;
  }
  if (items.length === 0) throw new CliError(`execsession ${namespace}/${name} has no recordings (it was never attached to, its policy has recording: Off, or the operator keeps none)`);
  const n = wanted ?? items.at(-1)!.attach;
  if (!items.some((e) => e.attach === n)) throw new CliError(`execsession ${namespace}/${name} has no recording ${n}; it has ${items.map((e) => e.attach).join(', ')}`);
  const cast = await stream(n);
  if (flags.output === 'cast') {
    for await (const chunk of cast) if (!ctx.io.stdout.write(chunk as Buffer)) await new Promise((r) => ctx.io.stdout.once('drain', r));
    return 0;
  }
  // The recorded output goes to the terminal as it was: that is what a replay is (as asciinema play does).
  const exit = await playCast(cast, ctx.io.stdout, speed, idle, sleep);
  printErr(ctx, `\nexecsession: recording ${n} of ${namespace}/${name} ended${exit === undefined ? '' : /^\d+$/.test(exit) ? ` (exit ${exit})` : ` (${exit})`}`);
  return 0;
}
