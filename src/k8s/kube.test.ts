import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type V1Status } from '@kubernetes/client-node';
import { apiMessage, apiStatus, createOrReplace, exitCodeOf, sessionEvent } from './kube.js';

function status(s: V1Status): V1Status {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, ...s };
}

describe('exitCodeOf', () => {
  const nonZero = (message: string): V1Status => status({
    status: 'Failure',
    reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: error executing command [sh -c exit ${message}], exit code ${message}`,
    details: { causes: [{ reason: 'ExitCode', message }] },
  });
  const codes: [string, V1Status, number][] = [
    ['Success', status({ status: 'Success' }), 0],
    ['Success ignores causes', status({ status: 'Success', details: { causes: [{ reason: 'ExitCode', message: '9' }] } }), 0],
    ['exit code 1', nonZero('1'), 1],
    ['exit code 2', nonZero('2'), 2],
    ['exit code 137', nonZero('137'), 137],
    ['exit code 255', nonZero('255'), 255],
    ['ExitCode among other causes', status({ status: 'Failure', details: { causes: [{ reason: 'Other', message: '5' }, { reason: 'ExitCode', message: '42' }] } }), 42],
  ];
  for (const [name, s, want] of codes) {
    it(name, () => assert.equal(exitCodeOf(s), want));
  }

  const failures: [string, V1Status, string][] = [
    ['failure with message', status({ status: 'Failure', reason: 'InternalError', message: 'error dialing backend: EOF' }), 'exec failed: error dialing backend: EOF'],
    ['failure with reason only', status({ status: 'Failure', reason: 'InternalError' }), 'exec failed: InternalError'],
    ['failure without anything', status({ status: 'Failure' }), 'exec failed: unknown error'],
    ['no status field', status({}), 'exec failed: unknown error'],
    ['non-numeric ExitCode', status({ status: 'Failure', message: 'odd', details: { causes: [{ reason: 'ExitCode', message: 'x1' }] } }), 'exec failed: odd'],
    ['negative ExitCode', status({ status: 'Failure', message: 'neg', details: { causes: [{ reason: 'ExitCode', message: '-1' }] } }), 'exec failed: neg'],
    ['ExitCode without message', status({ status: 'Failure', message: 'empty', details: { causes: [{ reason: 'ExitCode' }] } }), 'exec failed: empty'],
    ['only other causes', status({ status: 'Failure', message: 'other', details: { causes: [{ reason: 'FieldValueInvalid', message: '3' }] } }), 'exec failed: other'],
  ];
  for (const [name, s, message] of failures) {
    it(`throws: ${name}`, () => {
      assert.throws(() => exitCodeOf(s), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.message, message);
        return true;
      });
    });
  }
});

describe('apiMessage', () => {
  const cases: [string, unknown, string][] = [
    ['plain Error', new Error('connect ECONNREFUSED 127.0.0.1:6443'), 'connect ECONNREFUSED 127.0.0.1:6443'],
    ['TypeError', new TypeError('bad thing'), 'bad thing'],
    ['string', 'just text', 'just text'],
    ['number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['ApiException with JSON string body', new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', message: 'pods "x" is forbidden: admission denied' }), {}),
      'pods "x" is forbidden: admission denied'],
    ['ApiException with object body', new ApiException(422, 'Unprocessable', { message: 'spec.ttl: Invalid value' }, {}), 'spec.ttl: Invalid value'],
    ['ApiException with non-JSON string body', new ApiException(502, 'Bad Gateway', 'upstream connect error', {}), 'upstream connect error'],
    ['ApiException with JSON body without message', new ApiException(500, 'x', '{"kind":"Status"}', {}), 'HTTP 500'],
    ['ApiException without body', new ApiException(404, 'Not Found', undefined, {}), 'HTTP 404'],
  ];
  for (const [name, e, want] of cases) {
    it(name, () => assert.equal(apiMessage(e), want));
  }
});

describe('apiStatus', () => {
  const cases: [string, unknown, number | undefined][] = [
    ['ApiException', new ApiException(409, 'Conflict', undefined, {}), 409],
    ['plain Error', new Error('x'), undefined],
    ['object with a code', { code: 404 }, undefined],
  ];
  for (const [name, e, want] of cases) {
    it(name, () => assert.equal(apiStatus(e), want));
  }
});

describe('createOrReplace', () => {
  interface Obj { metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: string }
  const desired: Obj = { metadata: { name: 'x', labels: { app: 'execsession' } }, spec: 'new' };
  const conflict = (): ApiException<string> => new ApiException(409, 'Conflict', 'the object has been modified', {});
  const notFound = (): ApiException<string> => new ApiException(404, 'NotFound', 'not found', {});

  it('creates what is not there', async () => {
    const created: Obj[] = [];
    await createOrReplace<Obj>(desired, () => Promise.reject(notFound()), async (b) => created.push(b), () => assert.fail('no replace'));
    assert.deepEqual(created, [desired]);
  });

  it('replaces with the read resourceVersion and keeps the installer\'s labels and annotations', async () => {
    const replaced: Obj[] = [];
    const existing: Obj = { metadata: { name: 'x', resourceVersion: '7', labels: { 'app.kubernetes.io/part-of': 'execsession', app: 'old' }, annotations: { 'meta.helm.sh/release-name': 'r' } }, spec: 'old' };
    await createOrReplace<Obj>(desired, async () => existing, () => assert.fail('no create'), async (_n, b) => replaced.push(b));
    assert.deepEqual(replaced, [{ metadata: { name: 'x', resourceVersion: '7', labels: { 'app.kubernetes.io/part-of': 'execsession', app: 'execsession' }, annotations: { 'meta.helm.sh/release-name': 'r' } }, spec: 'new' }]);
  });

  it('reads again and redoes on a conflict (kube-apiserver wrote the status between the read and the write)', async () => {
    let version = 1;
    const tries: string[] = [];
    await createOrReplace<Obj>(
      desired,
      async () => ({ metadata: { name: 'x', resourceVersion: String(version) } }),
      () => assert.fail('no create'),
      async (_n, b) => {
        tries.push(b.metadata?.resourceVersion ?? '');
        if (version++ < 3) throw conflict();
      },
    );
    assert.deepEqual(tries, ['1', '2', '3']);
  });

  it('replaces when another replica created it between the read and the create (409 AlreadyExists)', async () => {
    let there = false;
    const calls: string[] = [];
    await createOrReplace<Obj>(
      desired,
      async () => { if (!there) throw notFound(); return { metadata: { name: 'x', resourceVersion: '9' } }; },
      async () => { calls.push('create'); there = true; throw conflict(); },
      async (_n, b) => { calls.push(`replace@${b.metadata?.resourceVersion}`); },
    );
    assert.deepEqual(calls, ['create', 'replace@9']);
  });

  it('gives up after its attempts, and at once on a refusal', async () => {
    let n = 0;
    await assert.rejects(createOrReplace<Obj>(desired, async () => ({ metadata: { name: 'x' } }), () => assert.fail(), async () => { n++; throw conflict(); }, 3), /modified/);
    assert.equal(n, 3);
    n = 0;
    await assert.rejects(createOrReplace<Obj>(desired, async () => ({ metadata: { name: 'x' } }), () => assert.fail(), async () => { n++; throw new ApiException(403, 'Forbidden', 'no', {}); }), /no|Forbidden/);
    assert.equal(n, 1);
  });
});

describe('sessionEvent', () => {
  it('names the operator as reportingComponent and the replica as reportingInstance (and source.host)', () => {
    const at = new Date('2026-11-22T10:00:00Z');
    const e = sessionEvent(
      { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'dbg', namespace: 'shop', uid: 'u1', resourceVersion: '7' }, spec: { podName: 'p', user: 'u' } },
      { type: 'Normal', reason: 'Ready', message: 'm'.repeat(2000) }, at, 'execsession-operator-7d4f-abcde',
    );
    assert.equal(e.reportingComponent, 'execsession-operator');
    assert.equal(e.reportingInstance, 'execsession-operator-7d4f-abcde');
    assert.deepEqual(e.source, { component: 'execsession-operator', host: 'execsession-operator-7d4f-abcde' });
    assert.deepEqual(e.involvedObject, { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', namespace: 'shop', name: 'dbg', uid: 'u1', resourceVersion: '7' });
    assert.deepEqual([e.metadata.generateName, e.metadata.namespace, e.type, e.reason, e.message?.length, e.firstTimestamp], ['dbg.', 'shop', 'Normal', 'Ready', 1024, at]);
  });
});
