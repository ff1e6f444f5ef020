import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiErrorFrom, parseStatus } from './errors.js';

const status = (code: number, reason: string, message: string): string => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('API errors', () => {
  it('carries the Status message and reason (RBAC refusal from kube-apiserver)', () => {
    const body = status(403, 'Forbidden', 'execsessions.subresources.execsession.dev "x" is forbidden: User "alice" cannot create resource "execsessions/approve"');
    const e = apiErrorFrom(403, body, 'POST /x');
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'Forbidden');
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /^execsessions.*cannot create resource "execsessions\/approve"$/);
  });

  it('falls back to the body text and a reason from the code', () => {
    const e = apiErrorFrom(409, 'conflict!', 'POST /x');
    assert.deepEqual([e.reason, e.message], ['Conflict', 'conflict!']);
    assert.equal(apiErrorFrom(418, '', 'GET /x').message, 'HTTP 418');
  });

  it('explains an API that is not served: CRD missing, operator down', () => {
    assert.match(apiErrorFrom(404, '404 page not found', 'GET /apis/execsession.dev/v1alpha1/execsessions').message, /not installed in this cluster.*kubectl apply -k config\/default/);
    assert.match(apiErrorFrom(503, status(503, 'ServiceUnavailable', 'service unavailable'), 'POST /apis/subresources.execsession.dev/v1alpha1/x').message,
      /operator's API.*is not available: is the operator running\?.*get apiservice/);
  });

  it('explains refused credentials', () => assert.match(apiErrorFrom(401, status(401, 'Unauthorized', 'Unauthorized'), 'GET /x').message, /credentials were refused/));

  it('parses only Status objects', () => {
    assert.equal(parseStatus('{"kind":"ExecSession"}'), undefined);
    assert.equal(parseStatus('<html>'), undefined);
    assert.equal(parseStatus(status(404, 'NotFound', 'gone'))?.message, 'gone');
  });
});
