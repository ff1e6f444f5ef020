import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lateOutsideQueue } from './ending.js';

describe('lateOutsideQueue: whose fault a late expiry is (only then is the kubelet\'s record waited for)', () => {
  const E = Date.parse('2026-12-06T09:00:00Z');
  const cases: [string, { began: number; firstReadMs?: number } | undefined, number | undefined, boolean][] = [
    ['the operator started (or took over) after expiresAt: it was not there', { began: E + 1_000, firstReadMs: 20 }, E + 800, true],
    ['began on time, kube-apiserver held the first read 2 s: a stall', { began: E + 5, firstReadMs: 2_000 }, E - 60_000, true],
    ['began on time, answers slow but under 0.5 s (a busy machine): not waited for', { began: E + 5, firstReadMs: 400 }, E - 60_000, false],
    ['began 1.5 s late behind this operator\'s own queue: not waited for', { began: E + 1_500, firstReadMs: 30 }, E - 60_000, false],
    ['began late and held long: its own queue first, not waited for', { began: E + 1_500, firstReadMs: 2_000 }, E - 60_000, false],
    ['when the operator acts unknown, began on time, held: a stall', { began: E + 200, firstReadMs: 900 }, undefined, true],
    ['no reconcile timing, acting since before: not waited for', undefined, E - 1, false],
  ];
  for (const [name, t, since, want] of cases) it(name, () => assert.equal(lateOutsideQueue(E, t, since), want));
});
