import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { canAcquire } from './leader.js';

const NOW = new Date('2024-05-01T10:00:00.000Z');
const ME = 'operator-7d9f-abcde';
const OTHER = 'operator-7d9f-zzzzz';

function ago(ms: number): V1MicroTime {
  return new V1MicroTime(NOW.getTime() - ms);
}

function lease(spec: V1LeaseSpec | undefined): V1Lease {
  return { metadata: { name: 'execsession-operator', namespace: 'execsession-system', resourceVersion: '42' }, spec };
}

describe('canAcquire', () => {
  const cases: [string, V1LeaseSpec | undefined, boolean][] = [
    ['lease without spec', undefined, true],
    ['empty spec', {}, true],
    ['no holder, recently renewed', { renewTime: ago(1_000), leaseDurationSeconds: 15 }, true],
    ['released lease (empty holder)', { holderIdentity: '', leaseDurationSeconds: 15, leaseTransitions: 3 }, true],
    ['same holder, renewed just now', { holderIdentity: ME, renewTime: ago(0), leaseDurationSeconds: 15 }, true],
    ['same holder, lapsed long ago', { holderIdentity: ME, renewTime: ago(3_600_000), leaseDurationSeconds: 15 }, true],
    ['same holder, no renew time', { holderIdentity: ME }, true],
    ['other holder, renewed recently', { holderIdentity: OTHER, renewTime: ago(5_000), leaseDurationSeconds: 15 }, false],
    ['other holder, renewed just now', { holderIdentity: OTHER, renewTime: ago(0), leaseDurationSeconds: 15 }, false],
    ['other holder, exactly at the duration', { holderIdentity: OTHER, renewTime: ago(15_000), leaseDurationSeconds: 15 }, false],
    ['other holder, 1 ms past the duration', { holderIdentity: OTHER, renewTime: ago(15_001), leaseDurationSeconds: 15 }, true],
    ['other holder, lapsed long ago', { holderIdentity: OTHER, renewTime: ago(600_000), leaseDurationSeconds: 15 }, true],
    ['other holder, long duration not yet lapsed', { holderIdentity: OTHER, renewTime: ago(30_000), leaseDurationSeconds: 60 }, false],
    ['other holder, long duration lapsed', { holderIdentity: OTHER, renewTime: ago(61_000), leaseDurationSeconds: 60 }, true],
    ['other holder, default duration 15s: not lapsed', { holderIdentity: OTHER, renewTime: ago(14_000) }, false],
    ['other holder, default duration 15s: lapsed', { holderIdentity: OTHER, renewTime: ago(16_000) }, true],
    ['other holder, never renewed', { holderIdentity: OTHER, leaseDurationSeconds: 15 }, true],
    ['other holder, renewed in the future (clock skew)', { holderIdentity: OTHER, renewTime: ago(-5_000), leaseDurationSeconds: 15 }, false],
    ['identity compared exactly (prefix)', { holderIdentity: `${ME}-2`, renewTime: ago(1_000), leaseDurationSeconds: 15 }, false],
    ['identity compared exactly (case)', { holderIdentity: ME.toUpperCase(), renewTime: ago(1_000), leaseDurationSeconds: 15 }, false],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.equal(canAcquire(lease(spec), ME, NOW), want));
  }

  it('accepts a renewTime read back as a plain Date', () => {
    const spec = { holderIdentity: OTHER, renewTime: new Date(NOW.getTime() - 1_000) as V1MicroTime, leaseDurationSeconds: 15 };
    assert.equal(canAcquire(lease(spec), ME, NOW), false);
  });

  it('accepts a renewTime read back as a string with microseconds', () => {
    const spec = { holderIdentity: OTHER, renewTime: '2024-05-01T09:59:59.000000Z' as unknown as V1MicroTime, leaseDurationSeconds: 15 };
    assert.equal(canAcquire(lease(spec), ME, NOW), false);
    assert.equal(canAcquire(lease(spec), ME, new Date(NOW.getTime() + 20_000)), true);
  });

  it('does not modify the lease', () => {
    const l = lease({ holderIdentity: OTHER, renewTime: ago(1_000), leaseDurationSeconds: 15 });
    const before = JSON.stringify(l);
    canAcquire(l, ME, NOW);
    assert.equal(JSON.stringify(l), before);
  });
});
