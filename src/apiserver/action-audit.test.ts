import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSession } from '../api/types.js';
import { actionEvent } from './action-audit.js';
import type { ActionContext } from './types.js';

const s = {
  metadata: { namespace: 'shop', name: 'dbg', uid: 'u-1' },
  spec: { podName: 'web', user: 'alice', requester: { username: 'alice', groups: [] } },
  status: {
    phase: 'WaitingForApproval', expiresAt: '2026-12-06T10:30:00Z',
    approvals: [
      { decision: 'Approved', username: 'bob', at: '2026-12-06T10:01:00Z', signature: 's' },
      { decision: 'Denied', username: 'carol', at: '2026-12-06T10:02:00Z', signature: 's', reason: 'no' },
    ],
    revocation: { username: 'dave', at: '2026-12-06T10:03:00Z', reason: 'done' },
  },
} as unknown as ExecSession;

function ctx(username: string, body: Record<string, unknown> = {}): ActionContext {
  return { caller: { username, groups: ['g'] }, namespace: 'shop', name: 'dbg', body, now: new Date('2026-12-06T10:04:00Z') } as unknown as ActionContext;
}

describe('the audit event of a subresource action', () => {
  it('approve and deny: the caller\'s own record, as the type it decided', () => {
    assert.deepEqual([actionEvent('approve', ctx('bob'), s)?.type, actionEvent('approve', ctx('bob'), s)?.time], ['approved', '2026-12-06T10:01:00Z']);
    const denied = actionEvent('deny', ctx('carol'), s);
    assert.deepEqual([denied?.type, denied?.actor.username, denied?.reason], ['approvalDenied', 'carol', 'no']);
    assert.equal(actionEvent('approve', ctx('erin'), s), undefined, 'no record of the caller: nothing to say');
  });

  it('revoke: the revocation status holds (a second revoke reports the first, with the same id); extend: by and the new expiry', () => {
    const first = actionEvent('revoke', ctx('dave'), s);
    assert.deepEqual([first?.type, first?.actor.username, first?.reason, first?.time], ['revoked', 'dave', 'done', '2026-12-06T10:03:00Z']);
    assert.equal(actionEvent('revoke', ctx('erin'), s)?.id, first?.id);
    const ext = actionEvent('extend', ctx('alice', { by: '15m' }), s);
    assert.deepEqual([ext?.type, ext?.actor.username, ext?.extendedBy, ext?.expiresAt], ['extended', 'alice', '15m', '2026-12-06T10:30:00Z']);
    assert.equal(actionEvent('recording', ctx('alice'), s), undefined);
  });
});
