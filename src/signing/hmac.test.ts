import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, signJson, verifyJson } from './hmac.js';

const KEY = Buffer.alloc(32, 7);

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves undefined members out', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
  it('is the same for objects built in another order', () => {
    assert.equal(canonicalJson({ x: 1, y: [1, 2] }), canonicalJson({ y: [1, 2], x: 1 }));
  });
});

describe('signJson / verifyJson', () => {
  it('verifies what it signed, whatever the key order', () => {
    const sig = signJson(KEY, { a: 1, b: [1, 2] });
    assert.equal(verifyJson(KEY, { b: [1, 2], a: 1 }, sig), true);
  });
  it('refuses another value, another key, a missing or garbled signature', () => {
    const sig = signJson(KEY, { a: 1 });
    assert.equal(verifyJson(KEY, { a: 2 }, sig), false);
    assert.equal(verifyJson(Buffer.alloc(32, 8), { a: 1 }, sig), false);
    assert.equal(verifyJson(KEY, { a: 1 }, undefined), false);
    assert.equal(verifyJson(KEY, { a: 1 }, ''), false);
    assert.equal(verifyJson(KEY, { a: 1 }, 'bm90IGEgbWFj'), false);
  });
});
