import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionRequester, sessionSubject } from './subject.js';

const requester = { username: 'system:serviceaccount:ci:flux', uid: 'u-1', groups: ['system:serviceaccounts'], extra: { k: ['v'] }, stampedAt: 'x', signature: 's' };

describe('sessionSubject', () => {
  it('is the stamped requester, with uid and extra, when nobody else is named', () => {
    assert.deepEqual(sessionSubject({ requester }), { username: requester.username, uid: 'u-1', groups: ['system:serviceaccounts'], extra: { k: ['v'] } });
  });

  it('is spec.onBehalfOf when set, never the creator', () => {
    assert.deepEqual(sessionSubject({ requester, onBehalfOf: { username: 'alice', groups: ['developers'] } }), { username: 'alice', groups: ['developers'] });
    assert.deepEqual(sessionSubject({ requester, onBehalfOf: { username: 'alice' } }), { username: 'alice', groups: [] });
  });

  it('has an empty name on an unstamped session', () => {
    assert.deepEqual(sessionSubject({}), { username: '', groups: [] });
  });

  it('sessionRequester is the creator, delegated or not', () => {
    assert.equal(sessionRequester({ requester }).username, requester.username);
  });
});
