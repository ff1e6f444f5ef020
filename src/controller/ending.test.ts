import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lateOutsideQueue } from './ending.js';

describe('lateOutsideQueue: whose fault a late expiry is (only then is the kubelet\'s record waited for)', () => {
  const E = Date.parse('2026-12-06T09:00:00Z');
  const cases: [string, number | undefined, number | undefined, boolean][] = [
    ['the operator started (or took over) after expiresAt: it was not there', E + 1_000, E - 5_000 + 6_200, true],
    ['the reconcile began on time, kube-apiserver held it: a stall', E + 100, E - 60_000, true],
    ['the reconcile began 1.5 s late behind this operator\'s own queue: not waited for', E + 1_500, E - 60_000, false],
    ['began late, when the operator acts unknown: not waited for', E + 1_500, undefined, false],
    ['began on time, when the operator acts unknown: a stall', E + 200, undefined, true],
    ['no reconcile in progress and acting since before: not waited for', undefined, E - 1, false],
  ];
  for (const [name, began, since, want] of cases) it(name, () => assert.equal(lateOutsideQueue(E, began, since), want));
});
