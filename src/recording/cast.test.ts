import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CastRecorder, RECORDER_HIGH_WATER, type CastHeader } from './cast.js';
import { FileRecordingStore } from './file-store.js';
import type { RecordingWriter } from './store.js';

const HEADER: CastHeader = {
  width: 80, height: 24, timestamp: 1_800_000_000, env: { TERM: 'xterm-256color', SHELL: '/bin/sh' },
  execsession: { namespace: 'team-a', name: 'dbg', uid: 'u-1', pod: 'web', container: 'app', containerUser: { name: 'alice', uid: 1000, gid: 1000 }, subject: 'alice@example.com', approvers: ['bob'], reason: 'INC-1' },
};

/** A writer that keeps lines (small recordings only). */
function memoryWriter(): RecordingWriter & { text: () => string; closed: boolean } {
  const parts: string[] = [];
  const w = { attach: 1, closed: false, write: async (s: string) => void parts.push(s), close: async () => void (w.closed = true), abort: async () => undefined, text: () => parts.join('') };
  return w;
}

function lines(text: string): unknown[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as unknown);
}

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('CastRecorder', () => {
  it('writes the header, output, resize (not to the same size) and exit events with their times', async () => {
    let now = 1000;
    const w = memoryWriter();
    const r = new CastRecorder(w, HEADER, 1000, () => now, () => assert.fail('no failure expected'));
    now = 1250;
    r.output(Buffer.from('$ id\r\n'));
    now = 2500;
    r.resize(80, 24);
    r.resize(120, 40);
    r.output(Buffer.from('oops\r\n'), 'stderr');
    now = 3000;
    r.exit(3);
    await r.close();
    const [header, ...events] = lines(w.text());
    assert.deepEqual(header, { version: 2, ...HEADER });
    assert.deepEqual(events, [[0.25, 'o', '$ id\r\n'], [1.5, 'r', '120x40'], [1.5, 'o', 'oops\r\n'], [2, 'x', '3']]);
    assert.ok(w.closed);
  });

  it('records input only when told to, and keeps UTF-8 characters cut between frames whole', async () => {
    const w = memoryWriter();
    const r = new CastRecorder(w, HEADER, 0, () => 0, () => undefined);
    const e = Buffer.from('é', 'utf8');
    r.output(e.subarray(0, 1));
    r.output(e.subarray(1));
    r.input(Buffer.from('ls\r'));
    await r.close();
    const events = lines(w.text()).slice(1);
    assert.deepEqual(events, [[0, 'o', 'é'], [0, 'i', 'ls\r']]);
  });

  it('reports a store failure once and writes nothing after it', async () => {
    let failures = 0;
    let writes = 0;
    const w: RecordingWriter = { attach: 1, write: async () => { writes += 1; throw new Error('disk full'); }, close: async () => undefined, abort: async () => undefined };
    const r = new CastRecorder(w, HEADER, 0, () => 0, (e) => { failures += 1; assert.match(e.message, /disk full/); });
    r.output(Buffer.from('a'));
    r.output(Buffer.from('b'));
    await r.close();
    assert.equal(failures, 1);
    assert.equal(writes, 1);
    assert.match(String(r.failed), /disk full/);
  });

  it('streams 50 MiB through a slow store with a bounded backlog and heap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cast-'));
    dirs.push(dir);
    const store = new FileRecordingStore(dir);
    const inner = await store.create({ namespace: 'ns', name: 's', uid: 'u-big' });
    // Slow: every write waits a tick past the disk.
    const slow: RecordingWriter = { attach: inner.attach, write: async (s) => { await inner.write(s); await new Promise((r) => setImmediate(r)); }, close: () => inner.close(), abort: (e) => inner.abort(e) };
    const r = new CastRecorder(slow, HEADER, 0, () => 0, (e) => assert.fail(e));
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peakBacklog = 0;
    let peakHeap = 0;
    const chunk = Buffer.alloc(64 << 10, 'x');
    for (let sent = 0; sent < 50 << 20; sent += chunk.length) {
      r.output(chunk);
      peakBacklog = Math.max(peakBacklog, r.backlog);
      // The relay's part: wait while the store is behind.
      await r.drained();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - before);
    }
    await r.close();
    assert.ok(peakBacklog < RECORDER_HIGH_WATER + (128 << 10), `backlog peaked at ${peakBacklog}`);
    assert.ok(peakHeap < 24 << 20, `heap grew by ${peakHeap >> 20} MiB while 50 MiB streamed`);
    const stored = (await store.list({ namespace: 'ns', name: 's', uid: 'u-big' }))[0];
    assert.ok(stored && stored.size > 50 << 20);
  });

  it('writes a recording that asciinema cat plays back, exit marker and all', { skip: !existsSync('/usr/bin/asciinema') && 'asciinema is not installed (apt-get install asciinema)' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cast-'));
    dirs.push(dir);
    const store = new FileRecordingStore(dir);
    const w = await store.create({ namespace: 'ns', name: 's', uid: 'u-cat' });
    let now = 0;
    const r = new CastRecorder(w, HEADER, 0, () => now, (e) => assert.fail(e));
    r.output(Buffer.from('uid=1000(alice)\r\n'));
    now = 100;
    r.resize(100, 30);
    r.input(Buffer.from('exit\r'));
    r.output(Buffer.from('bye\r\n'), 'stderr');
    r.exit(0);
    await r.close();
    const file = join(dir, 'ns', 's', 'u-cat', 'attach-1.cast');
    // asciinema 2.2's cat opens /dev/tty: script(1) gives it one, in raw mode so the output passes unchanged.
    const out = execFileSync('script', ['-qec', `stty raw -echo; asciinema cat '${file}'`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, 'uid=1000(alice)\r\nbye\r\n');
    assert.match(await readFile(file, 'utf8'), /\[0\.1,"x","0"\]\n$/);
  });
});
