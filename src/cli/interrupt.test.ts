import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { CliContext } from './context.js';
import { INTERRUPTED, interruptedMessage, interruptible } from './interrupt.js';
import { Progress } from './progress.js';

describe('Ctrl-C while waiting', () => {
  it('clears the spinner line, says the session goes on and how to wait again or end it, and exits 130', async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    const exits: number[] = [];
    const proc = Object.assign(new EventEmitter(), { exit: (code?: number) => void exits.push(code ?? 0) });
    const ctx = { io: { stdin: new PassThrough(), stdout: new PassThrough(), stderr, proc }, connect: () => assert.fail(), now: () => new Date() } as unknown as CliContext;
    const progress = new Progress(stderr);
    progress.update({ status: { phase: 'Starting' } } as never);
    let release!: () => void;
    const work = new Promise<void>((r) => (release = r));
    const waiting = interruptible(ctx, progress, () => interruptedMessage('shop', 'dbg', 'Starting'), work);
    assert.equal(proc.listenerCount('SIGINT'), 1);
    proc.emit('SIGINT');
    assert.deepEqual(exits, [INTERRUPTED]);
    const text = String(stderr.read());
    assert.ok(text.endsWith('\r\x1b[Kinterrupted: execsession shop/dbg goes on (Starting); wait again with: kubectl execsession wait dbg -n shop; end it with: kubectl execsession revoke dbg -n shop\n'), JSON.stringify(text));
    release();
    await waiting;
    assert.equal(proc.listenerCount('SIGINT'), 0, 'the handler goes once the wait is over');
  });
});
