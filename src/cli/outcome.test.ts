import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import { actionBody } from './cmd-action.js';
import { actionSummary, endedMessage, runOutcome } from './outcome.js';

const NOW = new Date('2026-11-22T08:00:00Z');

function session(status: Record<string, unknown>): ExecSession {
  return { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'x', namespace: 'default' }, spec: { podName: 'p', user: 'alice' }, status: status as ExecSessionStatus };
}

describe('runOutcome', () => {
  it('a command that succeeded: its output, exit 0, nothing else', () => {
    const id = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)\n';
    assert.deepEqual(runOutcome(session({ phase: 'Succeeded', result: { exitCode: 0, stdout: id, stderr: '' } })), { stdout: id, stderr: '', exitCode: 0, notes: [] });
  });

  it('a command that exited 3: exit 3 with its stderr', () => {
    assert.deepEqual(runOutcome(session({ phase: 'Failed', result: { exitCode: 3, stderr: 'no\n' } })), { stdout: '', stderr: 'no\n', exitCode: 3, notes: [] });
  });

  it('warns when the output was truncated', () => {
    const o = runOutcome(session({ phase: 'Succeeded', result: { exitCode: 0, stdout: 'aaa', truncated: true } }));
    assert.equal(o.exitCode, 0);
    assert.match(o.notes[0]!, /^warning: the output was truncated.*get x -n default -o yaml/);
  });

  it('points at the recording for the whole output when the session is recorded', () => {
    const o = runOutcome(session({ phase: 'Succeeded', result: { exitCode: 0, stdout: 'aaa', truncated: true }, recording: { mode: 'Required' } }));
    assert.match(o.notes[0]!, /^warning: the output was truncated.*kubectl execsession replay x -n default -o cast/);
    const off = runOutcome(session({ phase: 'Succeeded', result: { exitCode: 0, stdout: 'aaa', truncated: true }, recording: { mode: 'Off' } }));
    assert.match(off.notes[0]!, /get x -n default -o yaml/);
  });

  it('a session that ended without a result: exit 1 with its message', () => {
    const o = runOutcome(session({ phase: 'Denied', message: 'RbacDenied: alice may not create pods/exec' }));
    assert.deepEqual(o, { stdout: '', stderr: '', exitCode: 1, notes: ['execsession default/x is Denied: RbacDenied: alice may not create pods/exec'] });
  });

  it('a result in an Expired session also says it expired; odd exit codes become 1', () => {
    const o = runOutcome(session({ phase: 'Expired', message: 'ttl reached', result: { exitCode: 300 } }));
    assert.equal(o.exitCode, 1);
    assert.deepEqual(o.notes, ['execsession default/x is Expired: ttl reached']);
  });

  it('endedMessage without a message', () => assert.equal(endedMessage(session({})), 'execsession default/x is Pending'));
});

describe('actions', () => {
  const approvals = [
    { decision: 'Approved', username: 'dave', at: '', signature: '' },
    { decision: 'Approved', username: 'carol', at: '', signature: '' },
    { decision: 'Denied', username: 'erin', at: '', signature: '' },
  ];

  it('names who approved, denied or revoked', () => {
    assert.equal(actionSummary('approve', session({ phase: 'Approved', approvals }), NOW), 'execsession default/x approved by carol');
    assert.equal(actionSummary('deny', session({ phase: 'Denied', approvals }), NOW), 'execsession default/x denied by erin');
    assert.equal(actionSummary('revoke', session({ revocation: { username: 'bob', at: '' } }), NOW), 'execsession default/x revoked by bob');
    assert.equal(actionSummary('revoke', session({}), NOW), 'execsession default/x revoked');
  });

  it('extend says by how much and the new expiry', () => {
    assert.equal(actionSummary('extend', session({ expiresAt: '2026-11-22T08:30:00Z' }), NOW, '15m'),
      'execsession default/x extended by 15m: expires at 2026-11-22T08:30:00Z (in 30 minutes)');
  });

  it('bodies as docs/api.md defines them', () => {
    assert.deepEqual(actionBody('approve', { reason: 'ok' }), { reason: 'ok' });
    assert.deepEqual(actionBody('revoke', {}), {});
    assert.deepEqual(actionBody('extend', { by: '15m' }), { by: '15m' });
    assert.throws(() => actionBody('extend', {}), /needs --by/);
    assert.throws(() => actionBody('extend', { by: 'soon' }), (e: Error & { exitCode?: number }) => e.exitCode === 1 && /--by: invalid duration "soon"/.test(e.message));
  });
});
