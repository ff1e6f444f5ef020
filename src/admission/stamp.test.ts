import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, makeStamp, verifyStamp } from './stamp.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SPEC = { podName: 'web', user: 'alice', ttl: '15m', command: ['id'], tty: false };
const ALICE = { username: 'alice', uid: 'u-1', groups: ['developers', 'system:authenticated'] };
const NOW = new Date('2026-11-22T10:00:00.123Z');

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
  it('is the same for objects built in another order', () => {
    assert.equal(canonicalJson({ x: 1, y: [1, 2] }), canonicalJson({ y: [1, 2], x: 1 }));
  });
});

describe('requester stamp', () => {
  const stamp = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: SPEC }, ALICE, NOW);

  it('records the requester and the time in whole seconds', () => {
    assert.equal(stamp.username, 'alice');
    assert.deepEqual(stamp.groups, ALICE.groups);
    assert.equal(stamp.stampedAt, '2026-11-22T10:00:00Z');
    assert.ok(stamp.signature.length > 40);
  });

  it('verifies on the session it was made for', () => {
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: stamp }), undefined);
  });

  const tampered: Array<[string, () => ReturnType<typeof verifyStamp>]> = [
    ['another user written into the stamp', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: { ...stamp, username: 'bob' } })],
    ['a group added', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: { ...stamp, groups: [...stamp.groups, 'system:masters'] } })],
    ['another target user', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, user: 'root', requester: stamp })],
    ['another command', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, command: ['sh'], requester: stamp })],
    ['another pod', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, podName: 'db', requester: stamp })],
    ['a longer ttl', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, ttl: '24h', requester: stamp })],
    ['moved to another session', () => verifyStamp(KEY, 'shop', 'other', { ...SPEC, requester: stamp })],
    ['moved to another namespace', () => verifyStamp(KEY, 'prod', 'debug', { ...SPEC, requester: stamp })],
    ['another stamp time', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: { ...stamp, stampedAt: '2030-01-01T00:00:00Z' } })],
    ['signed with another key', () => verifyStamp(Buffer.from('another key'), 'shop', 'debug', { ...SPEC, requester: stamp })],
    ['a truncated signature', () => verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: { ...stamp, signature: stamp.signature.slice(0, 10) } })],
  ];
  for (const [name, check] of tampered) {
    it(`refuses ${name}`, () => assert.equal(check()?.reason, 'BadSignature'));
  }

  it('calls a missing stamp unsigned and says what to do', () => {
    const p = verifyStamp(KEY, 'shop', 'debug', SPEC);
    assert.equal(p?.reason, 'Unsigned');
    assert.match(p?.message ?? '', /admission webhook/);
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: { username: 'alice', groups: [] } })?.reason, 'Unsigned');
  });
});

describe('requester stamp of a delegated session (spec.onBehalfOf)', () => {
  const FLUX = { username: 'system:serviceaccount:ci:flux', groups: ['system:serviceaccounts'] };
  const DELEGATED = { ...SPEC, onBehalfOf: { username: 'alice', groups: ['developers'] } };
  const stamp = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: DELEGATED }, FLUX, NOW);

  it('verifies with the subject it was stamped with', () => {
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...DELEGATED, requester: stamp }), undefined);
  });

  const tampered: Array<[string, object]> = [
    ['another subject', { ...DELEGATED, onBehalfOf: { username: 'bob', groups: ['developers'] } }],
    ['a group added to the subject', { ...DELEGATED, onBehalfOf: { username: 'alice', groups: ['developers', 'admins'] } }],
    ['the subject removed (the creator would become the subject)', SPEC],
  ];
  for (const [name, spec] of tampered) {
    it(`refuses ${name}`, () => assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...spec, requester: stamp } as never)?.reason, 'BadSignature'));
  }

  it('refuses a subject added to a session stamped without one', () => {
    const plain = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: SPEC }, ALICE, NOW);
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...DELEGATED, requester: plain })?.reason, 'BadSignature');
  });
});
