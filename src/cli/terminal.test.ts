import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { enterRawMode, type ProcessHooks } from './terminal.js';

/** A terminal stdin that records raw mode changes. */
function fakeTty(isRaw = false): { isTTY: boolean; isRaw: boolean; modes: boolean[]; setRawMode(m: boolean): void } {
  return {
    isTTY: true,
    isRaw,
    modes: [],
    setRawMode(m: boolean) {
      this.modes.push(m);
      this.isRaw = m;
    },
  };
}

/** A process with events and a recorded exit. */
function fakeProcess(): EventEmitter & ProcessHooks & { exits: number[] } {
  const p = new EventEmitter() as EventEmitter & ProcessHooks & { exits: number[] };
  p.exits = [];
  p.exit = (code?: number) => void p.exits.push(code ?? 0);
  return p;
}

const HOOKED = ['exit', 'uncaughtExceptionMonitor', 'SIGINT', 'SIGTERM', 'SIGHUP'];

describe('enterRawMode', () => {
  it('does nothing when stdin is not a terminal', () => {
    const proc = fakeProcess();
    const restore = enterRawMode({ isTTY: false, setRawMode: () => assert.fail('no raw mode on a pipe') }, proc);
    restore();
    assert.equal(proc.eventNames().length, 0);
  });

  it('enters raw mode, and restore() leaves it once, unhooking everything', () => {
    const tty = fakeTty();
    const proc = fakeProcess();
    const restore = enterRawMode(tty, proc);
    assert.deepEqual(tty.modes, [true]);
    for (const e of HOOKED) assert.equal(proc.listenerCount(e), 1, e);
    restore();
    restore();
    assert.deepEqual(tty.modes, [true, false]);
    assert.deepEqual(proc.eventNames(), []);
  });

  it('restores the mode it found (already raw stays raw)', () => {
    const tty = fakeTty(true);
    enterRawMode(tty, fakeProcess())();
    assert.deepEqual(tty.modes, [true, true]);
  });

  it('restores on process exit (process.exit emits "exit" synchronously)', () => {
    const tty = fakeTty();
    const proc = fakeProcess();
    enterRawMode(tty, proc);
    proc.emit('exit', 0);
    assert.equal(tty.isRaw, false);
    assert.deepEqual(proc.exits, []);
  });

  it('restores on an uncaught exception, leaving the exit to node', () => {
    const tty = fakeTty();
    const proc = fakeProcess();
    enterRawMode(tty, proc);
    proc.emit('uncaughtExceptionMonitor', new Error('boom'), 'uncaughtException');
    assert.equal(tty.isRaw, false);
    assert.deepEqual(proc.exits, []);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`restores on ${signal} and exits ${code}`, () => {
      const tty = fakeTty();
      const proc = fakeProcess();
      enterRawMode(tty, proc);
      proc.emit(signal);
      assert.deepEqual(tty.modes, [true, false]);
      assert.deepEqual(proc.exits, [code]);
      assert.equal(proc.listenerCount('exit'), 0);
    });
  }

  it('a second session hooks afresh after the first restored', () => {
    const tty = fakeTty();
    const proc = fakeProcess();
    enterRawMode(tty, proc)();
    enterRawMode(tty, proc);
    proc.emit('SIGTERM');
    assert.deepEqual(tty.modes, [true, false, true, false]);
  });
});
