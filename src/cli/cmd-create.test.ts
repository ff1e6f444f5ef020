import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSession } from '../api/types.js';
import { untilExpiry } from './cmd-create.js';

const session = (status: ExecSession['status']): ExecSession => ({ apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'x', namespace: 'team' }, spec: { podName: 'p', user: 'alice' }, status });

describe('untilExpiry: how long a one-off command is waited for without --timeout', () => {
  const start = Date.parse('2026-11-22T10:00:00Z');
  const limit = untilExpiry(5 * 60_000);

  it('until the expiry the operator decided, and a minute', () => {
    assert.equal(limit(session({ phase: 'Running', expiresAt: '2026-11-22T10:05:00Z' }), start), 6 * 60_000);
  });

  it('before the session started, as long as create waits for Ready; while it waits for approvals, on', () => {
    assert.equal(limit(undefined, start), 5 * 60_000);
    assert.equal(limit(session({ phase: 'Pending' }), start), 5 * 60_000);
    assert.equal(limit(session({ phase: 'WaitingForApproval' }), start), Number.POSITIVE_INFINITY);
  });
});
