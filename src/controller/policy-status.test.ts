import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyExecPolicy } from '../policy/types.js';
import { policyStatus } from './policy-status.js';

const NOW = new Date('2026-11-22T10:00:00Z');

function policy(spec: object, status?: object, generation = 3): AnyExecPolicy {
  return { apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: 'p', generation }, spec, ...(status ? { status } : {}) } as AnyExecPolicy;
}

const GOOD = { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max: '1h' } };

describe('policyStatus', () => {
  it('marks a good policy valid, with a Valid condition and the generation', () => {
    const s = policyStatus(policy(GOOD), NOW);
    assert.equal(s?.valid, true);
    assert.equal(s?.observedGeneration, 3);
    assert.equal(s?.conditions?.[0]?.type, 'Valid');
    assert.equal(s?.conditions?.[0]?.status, 'True');
  });

  it('marks a broken policy invalid, saying what is wrong', () => {
    const s = policyStatus(policy({ ...GOOD, ttl: { default: '2h', max: '1h' } }), NOW);
    assert.equal(s?.valid, false);
    assert.match(s?.message ?? '', /ttl/);
    assert.equal(s?.conditions?.[0]?.status, 'False');
  });

  it('writes nothing when the status is already right, and again after a spec change', () => {
    const first = policyStatus(policy(GOOD), NOW);
    assert.equal(policyStatus(policy(GOOD, first), NOW), undefined);
    assert.notEqual(policyStatus(policy(GOOD, first, 4), NOW), undefined, 'a new generation is observed');
  });
});
