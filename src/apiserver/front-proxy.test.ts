import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestHeaderConfig } from '../k8s/request-header.js';
import { callerFrom, extraKey } from './front-proxy.js';
import { ApiError } from './types.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the caller forwarded by the front proxy', () => {
  it('takes the caller from the forwarded headers, every group and decoded extras', () => {
    const cfg = parseRequestHeaderConfig({ 'requestheader-client-ca-file': CA })!;
    const headers = { 'x-remote-user': 'alice', 'x-remote-group': 'developers, system:authenticated' };
    const distinct = { 'x-remote-user': ['alice'], 'x-remote-group': ['developers', 'system:authenticated'], 'x-remote-extra-scopes%2fwrite': ['yes'] };
    assert.deepEqual(callerFrom(headers, distinct, cfg), { username: 'alice', groups: ['developers', 'system:authenticated'], extra: { 'scopes/write': ['yes'] } });
  });

  it('has no caller without a user name', () => {
    const cfg = parseRequestHeaderConfig({ 'requestheader-client-ca-file': CA })!;
    assert.equal(callerFrom({ 'x-remote-group': 'system:masters' }, { 'x-remote-group': ['system:masters'] }, cfg), undefined);
  });
});

describe('forwarded extra keys', () => {
  const cfg = parseRequestHeaderConfig({ 'requestheader-client-ca-file': CA })!;
  const caller = (extraHeader: string): unknown => callerFrom({ 'x-remote-user': 'alice' }, { 'x-remote-user': ['alice'], [extraHeader]: ['x'] }, cfg);

  it('are percent-decoded', () => {
    assert.equal(extraKey('scopes%2Fwrite'), 'scopes/write');
    assert.equal(extraKey('plain'), 'plain');
    assert.equal(extraKey('%E2%9C%93'), '\u2713');
  });

  for (const bad of ['%FF', '%ZZ', '%', 'a%2', '%C3%28']) {
    it(`refuse malformed encoding with 400, never throw anything else: ${bad}`, () => {
      assert.throws(() => caller(`x-remote-extra-${bad.toLowerCase()}`), (e: unknown) => {
        assert.ok(e instanceof ApiError, String(e));
        assert.equal(e.code, 400);
        assert.match(e.message, /is not valid percent-encoding/);
        return true;
      });
    });
  }

  it('take a key named after an Object property as a key like any other', () => {
    assert.deepEqual((caller('x-remote-extra-__proto__') as { extra: object }).extra, { ['__proto__']: ['x'] });
  });
});
