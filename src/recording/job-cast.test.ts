import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CastHeader } from './cast.js';
import { JOB_BLOCK, JOB_EVENT_BYTES, JobCast, parseTick, transcribeJob, type JobFile, type JobOutputSink } from './job-cast.js';
import type { RecordingWriter } from './store.js';

const HEADER: CastHeader = {
  width: 80, height: 24, timestamp: 1_800_000_000,
  execsession: { namespace: 'team-a', name: 'job', uid: 'u-1', pod: 'web', container: 'app', containerUser: { name: 'alice', uid: 1000, gid: 1000 }, subject: 'alice', approvers: [], command: ['sh', '-c', 'x'] },
};

/** A job's files in memory, read in blocks as the helper's `block` does, with every read listed. */
function files(f: Partial<Record<JobFile, Buffer | string>>): { read: (file: JobFile, n: number) => Promise<Buffer>; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: async (file, n) => {
      reads.push(`${file}:${n}`);
      const b = Buffer.from(f[file] ?? '');
      return b.subarray(n * JOB_BLOCK, (n + 1) * JOB_BLOCK);
    },
  };
}

/** A sink that lists what it got: `[seconds, stream, text]`. */
function listSink(): JobOutputSink & { got: [number, string, string][] } {
  let t = 0;
  const got: [number, string, string][] = [];
  return { got, at: (s) => { t = s; }, output: (d, stream) => got.push([t, stream, d.toString()]), drained: async () => undefined };
}

describe('parseTick', () => {
  it('reads "UPTIME OUT ERR" and nothing else', () => {
    assert.deepEqual(parseTick('1234.56 10 0'), { t: 1234.56, out: 10, err: 0 });
    assert.deepEqual(parseTick('7 1 2\n'), { t: 7, out: 1, err: 2 });
    for (const l of ['', '1 2', '1 2 3 4', 'a 1 2', '1 -2 3']) assert.equal(parseTick(l), undefined, l);
  });
});

describe('transcribeJob', () => {
  it('times each tick\'s new bytes from the first tick, stdout before stderr', async () => {
    const { read } = files({ out: 'hello world', err: 'oops', ticks: '100.00 0 0\n100.25 5 0\n101.00 5 4\n101.50 11 4' });
    const sink = listSink();
    const r = await transcribeJob(read, sink);
    assert.deepEqual(sink.got, [[0.25, 'stdout', 'hello'], [1, 'stderr', 'oops'], [1.5, 'stdout', ' world']]);
    assert.deepEqual(r, { out: 11, err: 4, seconds: 1.5 });
  });

  it('copies more than a block in events of at most 64 KiB, reading each block once', async () => {
    const out = Buffer.alloc(JOB_BLOCK * 2 + 10, 'a');
    out.write('b', JOB_BLOCK);
    const { read, reads } = files({ out, ticks: `5 0 0\n5.25 ${JOB_BLOCK - 3} 0\n6 ${out.length} 0\n` });
    const sink = listSink();
    const r = await transcribeJob(read, sink);
    assert.equal(r.out, out.length);
    assert.equal(sink.got.map((g) => g[2]).join(''), out.toString());
    assert.ok(sink.got.every((g) => g[2].length <= JOB_EVENT_BYTES), 'no event above 64 KiB');
    assert.deepEqual(sink.got.filter((g) => g[0] === 0.25).map((g) => g[2].length).reduce((a, b) => a + b, 0), JOB_BLOCK - 3);
    assert.equal(sink.got.length, 16 + 1 + 16 + 1, 'a block is 16 events; its rest in another tick, one more');
    assert.deepEqual(reads, ['ticks:0', 'out:0', 'out:1', 'out:2']);
  });

  it('never takes time backwards, and a tick that shrinks copies nothing twice', async () => {
    const { read } = files({ out: 'abcdef', ticks: '10 0 0\n11 3 0\n10.5 2 0\n12 6 0\n' });
    const sink = listSink();
    await transcribeJob(read, sink);
    assert.deepEqual(sink.got, [[1, 'stdout', 'abc'], [2, 'stdout', 'def']]);
  });

  it('fails, naming the file, when the output is shorter than its ticks say', async () => {
    const { read } = files({ out: 'ab', ticks: '1 0 0\n2 5 0\n' });
    await assert.rejects(transcribeJob(read, listSink()), /job's out ends at byte 2, before 5/);
  });
});

describe('JobCast', () => {
  it('writes an asciicast whose events carry the ticks\' times, a marker and the exit code', async () => {
    const parts: string[] = [];
    const writer: RecordingWriter = { attach: 3, write: async (s) => void parts.push(s), close: async () => undefined, abort: async () => undefined };
    const cast = new JobCast(writer, HEADER, () => assert.fail('no failure expected'));
    const { read } = files({ out: 'out\n', err: 'err\n', ticks: '50 0 0\n50.75 4 0\n52 4 4\n' });
    const r = await transcribeJob(read, cast);
    cast.marker('stdout past 4 bytes was not kept');
    cast.exit(3);
    await cast.close();
    const lines = parts.join('').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual((lines[0] as { execsession: unknown }).execsession, HEADER.execsession);
    assert.deepEqual(lines.slice(1), [[0.75, 'o', 'out\n'], [2, 'o', 'err\n'], [2, 'm', 'stdout past 4 bytes was not kept'], [2, 'x', '3']]);
    assert.equal(r.seconds, 2);
  });

  it('close rejects with the store\'s error when a write failed', async () => {
    let failed: Error | undefined;
    const writer: RecordingWriter = { attach: 1, write: async () => { throw new Error('disk full'); }, close: async () => undefined, abort: async () => undefined };
    const cast = new JobCast(writer, HEADER, (e) => { failed = e; });
    cast.exit(0);
    await assert.rejects(cast.close(), /disk full/);
    assert.match(String(failed), /disk full/);
  });
});
