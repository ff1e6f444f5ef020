import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { AnyExecPolicy, ExecPolicyStatus } from '../policy/types.js';
import { PolicyStatusWriter, policyStatus } from './policy-status.js';

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

/** A writer over a client that fails with `failures` (in order) before it writes; records writes and logged errors. */
function writer(failures: unknown[]): { w: PolicyStatusWriter; writes: ExecPolicyStatus[]; attempts: () => number; errors: string[]; warnings: string[] } {
  const writes: ExecPolicyStatus[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  let attempts = 0;
  const log = { debug() {}, info() {}, warn: (_o: object, m?: string) => void warnings.push(m ?? ''), error: (_o: object, m?: string) => void errors.push(m ?? '') };
  const client = {
    patchStatus: async (_p: AnyExecPolicy, status: ExecPolicyStatus) => {
      attempts++;
      const failure = failures.shift();
      if (failure) throw failure;
      writes.push(status);
    },
  };
  const w = new PolicyStatusWriter({ client, log, now: () => NOW, queue: { baseBackoffMs: 1, maxBackoffMs: 5 } });
  return { w, writes, attempts: () => attempts, errors, warnings };
}

/** Waits until the queue settled, backoff retries included. */
async function settled(w: PolicyStatusWriter, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  await w.idle();
}

describe('PolicyStatusWriter', () => {
  it('retries a status write that failed for a transient reason (503, ECONNRESET) until it is written', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const t = writer([new ApiException(503, 'unavailable', {}, {}), reset]);
    t.w.observe('ADDED', policy(GOOD));
    await settled(t.w, () => t.writes.length > 0);
    assert.equal(t.attempts(), 3);
    assert.equal(t.writes[0]?.valid, true);
    assert.equal(t.warnings.length, 2, 'each failure is logged with its retry');
    await t.w.stop();
  });

  it('does not retry a refused write, and says so as an error', async () => {
    const t = writer([new ApiException(403, 'forbidden', { message: 'no' }, {})]);
    t.w.observe('ADDED', policy(GOOD));
    await settled(t.w, () => t.attempts() > 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.attempts(), 1);
    assert.deepEqual(t.writes, []);
    assert.equal(t.errors.length, 1);
    await t.w.stop();
  });

  it('ends with the status of the latest version, and writes nothing for one whose status is right or that was deleted', async () => {
    const t = writer([]);
    t.w.observe('ADDED', policy(GOOD, undefined, 1));
    t.w.observe('MODIFIED', policy(GOOD, undefined, 2));
    await settled(t.w, () => t.writes.at(-1)?.observedGeneration === 2);
    const before = t.attempts();
    t.w.observe('MODIFIED', policy(GOOD, t.writes.at(-1), 2));
    const gone = { ...policy(GOOD), metadata: { name: 'gone', generation: 1 } } as AnyExecPolicy;
    t.w.observe('DELETED', gone);
    await settled(t.w, () => true);
    assert.equal(t.attempts(), before);
    await t.w.stop();
  });
});
