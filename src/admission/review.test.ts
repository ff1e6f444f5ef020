import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutate, validate, type AdmissionRequest } from './review.js';
import { verifyStamp } from '../signing/stamp.js';

const KEY = Buffer.from('k'.repeat(32));
const NOW = new Date('2026-11-22T10:00:00Z');

function review(over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: 'r-1', operation: 'CREATE', namespace: 'shop', name: 'debug',
    userInfo: { username: 'alice', uid: 'u-1', groups: ['developers', 'system:authenticated'] },
    object: { metadata: { name: 'debug', namespace: 'shop' }, spec: { podName: 'web', user: 'alice', ttl: '15m' } },
    ...over,
  };
}

function applied(res: ReturnType<typeof mutate>, spec: object): Record<string, unknown> {
  const ops = JSON.parse(Buffer.from(res.patch ?? '', 'base64').toString()) as Array<{ op: string; path: string; value: unknown }>;
  assert.equal(ops.length, 1);
  assert.equal(ops[0]?.path, '/spec/requester');
  return { ...spec, requester: ops[0]?.value };
}

describe('mutating webhook', () => {
  it('stamps the authenticated requester with a signature that verifies', () => {
    const res = mutate(review(), KEY, NOW);
    assert.equal(res.allowed, true);
    assert.equal(res.patchType, 'JSONPatch');
    const spec = applied(res, review().object?.spec ?? {});
    assert.equal((spec.requester as { username: string }).username, 'alice');
    assert.equal(verifyStamp(KEY, 'shop', 'debug', spec as never), undefined);
  });

  it('overwrites an identity the creator wrote, and warns', () => {
    const forged = review({ object: { metadata: { name: 'debug' }, spec: { podName: 'web', user: 'alice', requester: { username: 'carol', groups: ['approvers'] } } } });
    const res = mutate(forged, KEY, NOW);
    const spec = applied(res, forged.object?.spec ?? {});
    assert.deepEqual((spec.requester as { username: string; groups: string[] }).groups, ['developers', 'system:authenticated']);
    assert.equal((spec.requester as { username: string }).username, 'alice');
    assert.match(res.warnings?.join() ?? '', /now names alice, not carol/);
    assert.equal(JSON.parse(Buffer.from(res.patch ?? '', 'base64').toString())[0].op, 'replace');
  });

  it('refuses generateName and anonymous requests, and leaves other operations alone', () => {
    assert.match(mutate(review({ name: undefined, object: { metadata: { generateName: 'x-' }, spec: { podName: 'w', user: 'a' } } }), KEY, NOW).status?.message ?? '', /generateName/);
    assert.equal(mutate(review({ userInfo: {} }), KEY, NOW).status?.code, 403);
    assert.deepEqual(mutate(review({ operation: 'UPDATE' }), KEY, NOW), { uid: 'r-1', allowed: true });
  });
});

describe('validating webhook', () => {
  it('refuses a bad spec on CREATE with every problem', () => {
    const res = validate(review({ object: { metadata: { name: 'debug' }, spec: { podName: 'web', user: 'a:b:c', ttl: 'forever' } } }), NOW);
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /spec\.user: .*; spec\.ttl: /);
  });
  it('refuses a CREATE whose spec.notAfter has passed, naming its end time (a session re-applied from Git)', () => {
    const res = validate(review({ object: { metadata: { name: 'debug' }, spec: { podName: 'web', user: 'alice', notAfter: '2026-11-22T09:00:00Z' } } }), NOW);
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 422);
    assert.match(res.status?.message ?? '', /^spec\.notAfter: this session ended at 2026-11-22T09:00:00Z/);
    assert.equal(validate(review({ object: { metadata: { name: 'debug' }, spec: { podName: 'web', user: 'alice', notAfter: '2026-11-22T11:00:00Z' } } }), NOW).allowed, true);
  });
  it('refuses changing the target on UPDATE', () => {
    const res = validate(review({ operation: 'UPDATE', oldObject: { spec: { podName: 'web', user: 'alice' } }, object: { spec: { podName: 'web', user: 'root' } } }), NOW);
    assert.match(res.status?.message ?? '', /spec\.user cannot be changed/);
  });
  it('allows a good CREATE and an UPDATE that leaves spec alone', () => {
    assert.equal(validate(review(), NOW).allowed, true);
    const spec = { podName: 'web', user: 'alice', reason: 'why' };
    assert.equal(validate(review({ operation: 'UPDATE', oldObject: { spec }, object: { spec: { ...spec } } }), NOW).allowed, true);
  });
  it('refuses an UPDATE of spec.reason, kept for the record', () => {
    const r = validate(review({ operation: 'UPDATE', oldObject: { spec: { podName: 'web', user: 'alice', reason: 'INC-1' } }, object: { spec: { podName: 'web', user: 'alice', reason: 'nothing to see' } } }), NOW);
    assert.equal(r.allowed, false);
    assert.match(r.status?.message ?? '', /^spec\.reason is kept for the record and cannot be changed/);
  });
});
