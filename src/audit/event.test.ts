import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSession } from '../api/types.js';
import { AUDIT_API_VERSION, auditId, dedupe, parseAuditLines, type AuditEvent } from './event.js';
import { admissionDenied, approvalDecided, attachStep, ending, extendedBy, requested, revokedBy, started } from './steps.js';

function session(status: ExecSession['status'] = {}): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { namespace: 'shop', name: 'dbg', uid: 'u-1', creationTimestamp: new Date('2026-12-06T10:00:00.400Z') },
    spec: { podName: 'web', container: 'app', user: 'alice', ttl: '15m', reason: 'INC-1', requester: { username: 'alice', groups: ['developers'] } },
    status,
  } as ExecSession;
}

const now = new Date('2026-12-06T10:05:00Z');

describe('audit events: the schema', () => {
  it('carries the version, the session, the subject, the container user and the step fields; no field is null', () => {
    const e = requested(session());
    assert.equal(e.apiVersion, AUDIT_API_VERSION);
    assert.equal(AUDIT_API_VERSION, 'audit.execsession.dev/v1');
    assert.deepEqual({ ...e, id: undefined }, {
      apiVersion: 'audit.execsession.dev/v1', kind: 'Event', id: undefined, type: 'requested', time: '2026-12-06T10:00:00Z',
      session: { namespace: 'shop', name: 'dbg', uid: 'u-1' }, subject: 'alice', actor: { kind: 'user', username: 'alice', groups: ['developers'] },
      containerUser: { spec: 'alice' }, pod: 'web', container: 'app', reason: 'INC-1',
    });
    assert.ok(!JSON.stringify(e).includes('null'));
    assert.match(e.id, /^[0-9a-f]{32}$/);
  });

  it('adds the resolved user once status has it, and the policy and expiry at the start', () => {
    const s = session({ phase: 'Ready', startedAt: '2026-12-06T10:01:00Z', expiresAt: '2026-12-06T10:16:00Z', user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', shell: '/bin/sh', home: '/home/alice' } } as ExecSession['status']);
    const e = started(s, { kind: 'ClusterExecPolicy', name: 'break-glass' }, now);
    assert.deepEqual([e.type, e.time, e.actor.kind, e.phase, e.policy, e.expiresAt, e.containerUser], ['started', '2026-12-06T10:01:00Z', 'operator', 'Ready', 'ClusterExecPolicy/break-glass', '2026-12-06T10:16:00Z', { spec: 'alice', name: 'alice', uid: 1000, gid: 1000 }]);
  });
});

describe('audit events: stable ids', () => {
  it('the same transition gives the same id whenever it is built; another transition or step another', () => {
    const s = session({ phase: 'Ready', startedAt: '2026-12-06T10:01:00Z' });
    assert.equal(started(s, undefined, now).id, started(s, undefined, new Date()).id);
    assert.notEqual(started(s, undefined, now).id, started(session({ phase: 'Ready', startedAt: '2026-12-06T11:00:00Z' }), undefined, now).id);
    assert.notEqual(auditId('u-1', 'started', 'x'), auditId('u-1', 'ended', 'x'));
    assert.notEqual(auditId('u-1', 'started', 'x'), auditId('u-2', 'started', 'x'));
    const ext = session({ phase: 'Ready', expiresAt: '2026-12-06T10:30:00Z' });
    assert.equal(extendedBy(ext, { username: 'alice', groups: [] }, '15m', now).id, extendedBy(ext, { username: 'alice', groups: [] }, '15m', new Date()).id);
  });

  it('a reader drops duplicates by id and keeps the first, in order', () => {
    const a = requested(session());
    const b = revokedBy(session({ revocation: { username: 'carol', at: '2026-12-06T10:03:00Z' } }));
    assert.deepEqual(dedupe([a, b, { ...a }, b]).map((e) => e.type), ['requested', 'revoked']);
  });

  it('parses JSON Lines, skipping a cut line and other versions', () => {
    const a = requested(session());
    const text = `${JSON.stringify(a)}\n{"apiVersion":"audit.execsession.dev/v2","kind":"Event","id":"x"}\n{"apiVersion":"audit.exec\n\n`;
    assert.deepEqual(parseAuditLines(text), [a]);
  });
});

describe('audit events: which step says what', () => {
  const end = (st: ExecSession['status'], reason: string): AuditEvent[] => ending(session({ endedAt: '2026-12-06T10:09:00Z', ...st }), reason, 'm');

  it('an ending is always last and once: denied, expired or a result before it when that is why', () => {
    assert.deepEqual(end({ phase: 'Denied' }, 'RbacDenied').map((e) => e.type), ['denied', 'ended']);
    assert.deepEqual(end({ phase: 'Expired', expiresAt: '2026-12-06T10:09:00Z' }, 'TtlElapsed').map((e) => [e.type, e.expiresAt]), [['expired', '2026-12-06T10:09:00Z'], ['ended', undefined]]);
    assert.deepEqual(end({ phase: 'Failed', result: { exitCode: 3, stdout: '', stderr: '', truncated: false } }, 'CommandFailed').map((e) => [e.type, e.exitCode]), [['result', 3], ['ended', 3]]);
    const ended = end({ phase: 'Terminated' }, 'Deleted');
    assert.deepEqual(ended.map((e) => [e.type, e.phase, e.reason, e.time, e.actor.kind]), [['ended', 'Terminated', 'Deleted', '2026-12-06T10:09:00Z', 'operator']]);
  });

  it('names who caused an ending the operator carried out: the revoker, the approver who denied', () => {
    const revoked = end({ phase: 'Terminated', revocation: { username: 'carol', at: '2026-12-06T10:08:00Z' } }, 'Revoked');
    assert.deepEqual(revoked.map((e) => [e.type, e.by]), [['ended', 'carol']]);
    const denied = end({ phase: 'Denied', approvals: [{ decision: 'Denied', username: 'dave', at: '2026-12-06T10:02:00Z', signature: 's' }] }, 'ApprovalDenied');
    assert.deepEqual(denied.map((e) => e.by), ['dave', 'dave']);
  });

  it('approvals, revocations and attaches are done by users; their time is the one status recorded', () => {
    const s = session();
    const approved = approvalDecided(s, { decision: 'Approved', username: 'carol', groups: ['sre'], at: '2026-12-06T10:02:00Z', signature: 's', reason: 'ok' });
    assert.deepEqual([approved.type, approved.actor, approved.time, approved.reason], ['approved', { kind: 'user', username: 'carol', groups: ['sre'] }, '2026-12-06T10:02:00Z', 'ok']);
    assert.equal(approvalDecided(s, { decision: 'Denied', username: 'dave', at: '2026-12-06T10:02:00Z', signature: 's' }).type, 'approvalDenied');
    const det = attachStep(s, 'detached', 'a-1', { username: 'alice', groups: [] }, { command: ['id'], exitCode: 0, endedBy: 'Disconnected', now });
    assert.deepEqual([det.actor.username, det.command, det.exitCode, det.endedBy, det.attach], ['alice', ['id'], 0, undefined, 'a-1']);
    const cut = attachStep(s, 'detached', 'a-1', { username: 'alice', groups: [] }, { command: ['sh'], endedBy: 'Revoked', now });
    assert.deepEqual([cut.exitCode, cut.endedBy], [undefined, 'Revoked']);
  });

  it('a refusal at admission is requested by the requester, then denied by the operator, keyed by the admission request', () => {
    const [req, den] = admissionDenied({
      requestUID: 'r-1', namespace: 'shop', name: 'dbg', requester: { username: 'mallory', groups: [] }, subject: 'mallory', containerUser: 'root',
      pod: 'web', policy: { kind: 'ExecPolicy', namespace: 'shop', name: 'ops' }, reason: 'UserNotAllowed', message: 'no', now,
    });
    assert.deepEqual([req?.type, req?.actor.username, den?.type, den?.actor.kind, den?.policy, den?.reason, den?.session.uid, den?.requestUID],
      ['requested', 'mallory', 'denied', 'operator', 'ExecPolicy/shop/ops', 'UserNotAllowed', '', 'r-1']);
    assert.notEqual(req?.id, den?.id);
  });
});
