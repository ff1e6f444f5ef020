import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sample } from '../../test/support/metrics.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import { PhaseTally } from './phase-tally.js';

const s = (name: string, phase?: string): object => ({ metadata: { namespace: 'shop', name }, ...(phase ? { status: { phase } } : {}) });

describe('sessions by phase (execsession_sessions)', () => {
  it('follows watch events: a new session is Pending, a change moves it, a deletion removes it', () => {
    const t = new PhaseTally();
    t.observe('ADDED', s('a'));
    t.observe('ADDED', s('b', 'Ready'));
    t.observe('MODIFIED', s('a', 'Ready'));
    assert.deepEqual([...t.counts()], [['Ready', 2]]);
    t.observe('DELETED', s('b', 'Ready'));
    t.observe('MODIFIED', s('a', 'Expired'));
    assert.deepEqual([...t.counts()], [['Expired', 1]]);
  });

  it('a relist replaces everything: a deletion missed while the watch was down does not linger', () => {
    const t = new PhaseTally();
    t.observe('ADDED', s('gone', 'Ready'));
    t.relisted([s('kept', 'Running') as never]);
    assert.deepEqual([...t.counts()], [['Running', 1]]);
  });

  it('the gauge shows every phase, 0 where none, and zeros when nothing counts (a replica that does not lead)', async () => {
    const m = new OperatorMetrics();
    const t = new PhaseTally();
    t.observe('ADDED', s('a', 'Ready'));
    m.countPhasesWith(() => t.counts());
    assert.equal(await sample(m, 'execsession_sessions', { phase: 'Ready' }), 1);
    assert.equal(await sample(m, 'execsession_sessions', { phase: 'WaitingForApproval' }), 0);
    m.countPhasesWith(undefined);
    assert.equal(await sample(m, 'execsession_sessions', { phase: 'Ready' }), 0);
  });
});
