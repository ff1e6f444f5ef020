import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Phase } from '../api/types.js';
import { Redecider } from './redecide.js';

const session = (namespace: string, name: string, phase?: Phase): object => ({ metadata: { namespace, name }, status: phase ? { phase } : {} });
const policy = (namespace: string | undefined, name: string, generation: number): object => ({ metadata: { namespace, name, generation } });

/** A Redecider whose queued keys are collected; flush() instead of waiting. */
function redecider(): { r: Redecider; queued: string[] } {
  const queued: string[] = [];
  return { r: new Redecider((k) => queued.push(k), 60_000), queued };
}

describe('Redecider', () => {
  it('queues the waiting sessions of the namespace whose RBAC changed, and all of them for a cluster-wide change', () => {
    const { r, queued } = redecider();
    r.session('ADDED', session('a', 'one', 'WaitingForApproval'));
    r.session('ADDED', session('a', 'new'));
    r.session('ADDED', session('b', 'two', 'Pending'));
    r.session('ADDED', session('b', 'live', 'Ready'));
    r.session('ADDED', session('c', 'ended', 'Expired'));
    r.rbac('MODIFIED', { metadata: { namespace: 'a', name: 'binding' } });
    r.flush();
    assert.deepEqual(queued.sort(), ['a/new', 'a/one']);
    queued.length = 0;
    r.rbac('DELETED', { metadata: { name: 'cluster-binding' } });
    r.flush();
    assert.deepEqual(queued.sort(), ['a/new', 'a/one', 'b/two']);
  });

  it('forgets a session once it is live, ended or deleted', () => {
    const { r, queued } = redecider();
    r.session('ADDED', session('a', 'one', 'WaitingForApproval'));
    r.session('ADDED', session('a', 'two', 'Approved'));
    r.session('MODIFIED', session('a', 'one', 'Starting'));
    r.session('DELETED', session('a', 'two', 'Approved'));
    assert.equal(r.size, 0);
    r.changed(undefined);
    r.flush();
    assert.deepEqual(queued, []);
  });

  it('ignores RBAC as listed, but a relist after a gap makes every waiting session due', () => {
    const { r, queued } = redecider();
    r.session('ADDED', session('a', 'one', 'WaitingForApproval'));
    r.rbac('SYNC', { metadata: { namespace: 'a' } });
    r.flush();
    assert.deepEqual(queued, []);
    r.rbacRelisted();
    r.flush();
    assert.deepEqual(queued, ['a/one']);
  });

  it('counts a policy change only when its generation moves, it is deleted, or it is new after the start-up list', () => {
    const { r, queued } = redecider();
    r.sessionsListed([session('a', 'one', 'WaitingForApproval') as never, session('b', 'two', 'WaitingForApproval') as never]);
    r.policy('SYNC', 'ExecPolicy', policy('a', 'p', 1), true);
    r.flush();
    assert.deepEqual(queued, [], 'the start-up list');
    r.policy('MODIFIED', 'ExecPolicy', policy('a', 'p', 1));
    r.flush();
    assert.deepEqual(queued, [], 'its own status write');
    r.policy('MODIFIED', 'ExecPolicy', policy('a', 'p', 2));
    r.flush();
    assert.deepEqual(queued, ['a/one'], 'a spec change, in its namespace only');
    queued.length = 0;
    r.policy('DELETED', 'ExecPolicy', policy('a', 'p', 2));
    r.flush();
    assert.deepEqual(queued, ['a/one']);
    queued.length = 0;
    r.policy('ADDED', 'ClusterExecPolicy', policy(undefined, 'c', 1));
    r.flush();
    assert.deepEqual(queued.sort(), ['a/one', 'b/two'], 'a cluster policy, everywhere');
  });

  it('gathers changes that come together and queues each session once', async () => {
    const queued: string[] = [];
    const r = new Redecider((k) => queued.push(k), 5);
    r.session('ADDED', session('a', 'one', 'WaitingForApproval'));
    for (let i = 0; i < 10; i++) r.rbac('MODIFIED', { metadata: { namespace: 'a' } });
    assert.deepEqual(queued, []);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(queued, ['a/one']);
    r.stop();
  });
});
