import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STAMP_MAX_AGE_MS, STAMP_MAX_SKEW_MS, checkStampTime, makeStamp, verifySessionStamp, verifyStamp } from './stamp.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SPEC = { podName: 'web', user: 'alice', ttl: '15m', command: ['id'], tty: false };
const ALICE = { username: 'alice', uid: 'u-1', groups: ['developers', 'system:authenticated'] };
const NOW = new Date('2026-11-22T10:00:00.123Z');

describe('requester stamp', () => {
  const stamp = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: SPEC }, ALICE, NOW);

  it('records the requester and the time in whole seconds', () => {
    assert.equal(stamp.username, 'alice');
    assert.deepEqual(stamp.groups, ALICE.groups);
    assert.equal(stamp.stampedAt, '2026-11-22T10:00:00Z');
    assert.ok(stamp.signature.length > 40);
  });

  it('signs the same bytes as before stamps went through signing/hmac.ts: stamps issued then still verify', () => {
    const withExtra = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: SPEC }, { ...ALICE, extra: { scopes: ['a'] } }, NOW);
    assert.equal(withExtra.signature, 'RcuhrLvQruQ2AEWSe+FFoFEzIZBvVX/ePX3vdYhQHdU=');
    const delegated = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: { ...SPEC, onBehalfOf: { username: 'bob' } } }, { username: 'flux', groups: [] }, NOW);
    assert.equal(delegated.signature, 'B1Hmn64UCgJVMGvhTU2LPKFCF0/3a1evr9SxFiCYIFI=');
  });

  it('covers spec.notAfter when set: the absolute end cannot be moved or removed without breaking the stamp', () => {
    const ends = { ...SPEC, notAfter: '2026-11-22T11:00:00Z' };
    const s = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: ends }, ALICE, NOW);
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...ends, requester: s }), undefined);
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...ends, notAfter: '2026-11-23T11:00:00Z', requester: s })?.reason, 'BadSignature');
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...SPEC, requester: s })?.reason, 'BadSignature');
    // And a stamp made without one does not hold once one is added.
    assert.equal(verifyStamp(KEY, 'shop', 'debug', { ...ends, requester: stamp })?.reason, 'BadSignature');
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

describe('the stamp is tied to the create request it was issued for (finding 4)', () => {
  // NOW is 10:00:00.123Z: the stamp says 10:00:00Z, as the webhook writes it.
  const stamp = makeStamp(KEY, { namespace: 'shop', name: 'debug', spec: SPEC }, ALICE, NOW);
  const session = (created: string | Date | undefined): Parameters<typeof verifySessionStamp>[1] => ({
    metadata: { namespace: 'shop', name: 'debug', ...(created === undefined ? {} : { creationTimestamp: created }) },
    spec: { ...SPEC, requester: stamp },
  });

  const held: [string, string | Date][] = [
    ['created in the same second', '2026-11-22T10:00:00Z'],
    ['created a second later (rounding)', '2026-11-22T10:00:01Z'],
    ['created after slow validating webhooks', '2026-11-22T10:00:25Z'],
    [`created ${STAMP_MAX_AGE_MS / 1000}s later, the limit`, '2026-11-22T10:00:30Z'],
    ['created a little before the stamp (kube-apiserver\'s clock behind)', '2026-11-22T09:59:56Z'],
    ['a creationTimestamp deserialised to a Date', new Date('2026-11-22T10:00:02Z')],
  ];
  for (const [name, created] of held) {
    it(`holds when ${name}`, () => assert.equal(verifySessionStamp(KEY, session(created)), undefined));
  }

  const replayed: [string, string | undefined, RegExp][] = [
    ['re-created 31s after the stamp', '2026-11-22T10:00:31Z', /issued at 2026-11-22T10:00:00Z, 31s before the session was created \(2026-11-22T10:00:31Z\); a stamp holds only for the create request it was issued for \(within 30s\)/],
    ['re-created a day later', '2026-11-23T10:00:00Z', /86400s before the session was created/],
    ['created well before the stamp was issued', '2026-11-22T09:59:50Z', /10s after the session was created .*synchronise them/],
    ['without a creationTimestamp', undefined, /cannot be tied to this session's creation/],
  ];
  for (const [name, created, message] of replayed) {
    it(`refuses a stamp ${name}, saying what to do`, () => {
      const p = verifySessionStamp(KEY, session(created));
      assert.equal(p?.reason, 'StampReplayed');
      assert.match(p?.message ?? '', message);
      assert.match(p?.message ?? '', /create it again through the API server, with the execsession admission webhook in place/);
    });
  }

  it('checks the signature first: a forged time is a bad signature, not a replay', () => {
    const forged = { ...session('2026-11-23T10:00:00Z'), spec: { ...SPEC, requester: { ...stamp, stampedAt: '2026-11-23T10:00:00Z' } } };
    assert.equal(verifySessionStamp(KEY, forged)?.reason, 'BadSignature');
  });

  it('has a window that a create through the webhooks fits (each webhook times out at 10 s)', () => {
    assert.ok(STAMP_MAX_AGE_MS >= 2 * 10_000 + 5_000);
    assert.ok(STAMP_MAX_SKEW_MS < STAMP_MAX_AGE_MS);
    assert.equal(checkStampTime('2026-11-22T10:00:00Z', '2026-11-22T10:00:05Z'), undefined);
  });
});
