import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import { NO_OPERATOR_AFTER_MS, Progress, describeProgress, spinnerLine } from './progress.js';

const session = (status?: ExecSessionStatus): ExecSession => ({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'x' }, spec: { podName: 'p', user: 'u' }, status });

function output(isTTY: boolean): { isTTY: boolean; columns: number; text: string; write(s: string): void } {
  return { isTTY, columns: 30, text: '', write(s: string) { this.text += s; } };
}

describe('progress', () => {
  it('describes phase and message', () => {
    assert.equal(describeProgress(undefined), 'Pending');
    assert.equal(describeProgress(session({ phase: 'WaitingForApproval', message: 'needs 1 approval from group sre' })), 'WaitingForApproval: needs 1 approval from group sre');
    assert.match(describeProgress(session(), NO_OPERATOR_AFTER_MS), /^Pending: no status from the operator yet: is it running\?/);
    assert.equal(describeProgress(session({ phase: 'Starting' }), NO_OPERATOR_AFTER_MS), 'Starting');
  });

  it('cuts the spinner line to the terminal width', () => {
    assert.equal(spinnerLine('Pending', 0, 80), '⠋ Pending');
    assert.equal(spinnerLine('Pending', 1, undefined), '⠙ Pending');
    assert.equal(spinnerLine('x'.repeat(50), 0, 20), `⠋ ${'x'.repeat(16)}…`);
  });

  it('not a terminal: one line per change, nothing to clear', () => {
    const out = output(false);
    const p = new Progress(out);
    p.update(session({ phase: 'Pending' }));
    p.update(session({ phase: 'Pending' }));
    p.update(session({ phase: 'Starting', message: 'helper pod scheduled' }));
    p.done();
    assert.equal(out.text, 'Pending\nStarting: helper pod scheduled\n');
  });

  it('quiet and not a terminal: nothing at all', () => {
    const out = output(false);
    const p = new Progress(out, true);
    p.update(session({ phase: 'Pending' }));
    p.done();
    assert.equal(out.text, '');
  });

  it('a terminal: a line rewritten in place, cleared at the end', () => {
    const out = output(true);
    const p = new Progress(out, true);
    p.update(session({ phase: 'Pending' }));
    p.update(session({ phase: 'Starting' }));
    p.done();
    assert.equal(out.text, '\r\x1b[K⠋ Pending\r\x1b[K⠙ Starting\r\x1b[K');
  });
});
