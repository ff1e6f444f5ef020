import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { apiMessage, apiStatus, classifyApiError } from './api-errors.js';

const http = (code: number, message = 'm'): ApiException<unknown> => new ApiException(code, `HTTP ${code}`, { kind: 'Status', message }, {});

/** A failed connection as Node's sockets report it: an Error with a string code. */
const network = (code: string): Error => Object.assign(new Error(`request failed, reason: ${code}`), { code, errno: code, type: 'system' });

describe('classifyApiError', () => {
  const cases: [string, unknown, string][] = [
    ['409 Conflict', http(409), 'conflict'],
    ['404 Not Found', http(404), 'notFound'],
    ['429 Too Many Requests', http(429), 'transient'],
    ['408 Request Timeout', http(408), 'transient'],
    ['500 Internal Server Error', http(500), 'transient'],
    ['503 Service Unavailable', http(503), 'transient'],
    ['504 Gateway Timeout', http(504), 'transient'],
    ['400 Bad Request', http(400), 'refused'],
    ['401 Unauthorized', http(401), 'refused'],
    ['403 Forbidden (an admission webhook or PodSecurity)', http(403), 'refused'],
    ['410 Gone', http(410), 'refused'],
    ['422 Invalid', http(422), 'refused'],
    ['ECONNRESET', network('ECONNRESET'), 'transient'],
    ['ETIMEDOUT', network('ETIMEDOUT'), 'transient'],
    ['ECONNREFUSED', network('ECONNREFUSED'), 'transient'],
    ['an error without any code', new Error('socket hang up'), 'transient'],
    ['a plain object with an HTTP code (a watch error)', { code: 403 }, 'refused'],
    ['a plain object with 503', { code: 503 }, 'transient'],
  ];
  for (const [name, error, want] of cases) {
    it(`${name}: ${want}`, () => assert.equal(classifyApiError(error), want));
  }

  it('never calls a failure the server did not answer a refusal', () => {
    for (const e of [undefined, null, 'text', 42, { code: 'EPIPE' }, new TypeError('x')]) assert.equal(classifyApiError(e), 'transient');
  });
});

describe('apiStatus and apiMessage', () => {
  it('reads the status code of API exceptions only', () => {
    assert.equal(apiStatus(http(409)), 409);
    assert.equal(apiStatus(network('ECONNRESET')), undefined);
  });

  it('takes a WebSocket close code for no HTTP status', () => assert.equal(classifyApiError({ code: 1006 }), 'transient'));

  it("gives the server's own message, else the HTTP code", () => {
    assert.equal(apiMessage(http(403, 'pods "x" is forbidden: violates PodSecurity "baseline"')), 'pods "x" is forbidden: violates PodSecurity "baseline"');
    assert.equal(apiMessage(new ApiException(500, 'x', '{"message":"etcd timeout"}', {})), 'etcd timeout');
    assert.equal(apiMessage(new ApiException(502, 'x', 'bad gateway', {})), 'bad gateway');
    assert.equal(apiMessage(new ApiException(503, 'x', undefined, {})), 'HTTP 503');
    assert.equal(apiMessage(network('ECONNRESET')), 'request failed, reason: ECONNRESET');
  });
});
