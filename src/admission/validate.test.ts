import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateCreate, validateUpdate } from './validate.js';

const OK = { podName: 'web', user: 'alice', ttl: '15m' };
const NOW = new Date('2026-11-22T10:00:00Z');

describe('validateCreate', () => {
  it('accepts a plain interactive session and a one-shot command', () => {
    assert.deepEqual(validateCreate(OK, NOW), []);
    assert.deepEqual(validateCreate({ ...OK, tty: false, command: ['id'] }, NOW), []);
    assert.deepEqual(validateCreate({ ...OK, user: '1000:2000', container: 'app-1' }, NOW), []);
    assert.deepEqual(validateCreate({ ...OK, onBehalfOf: { username: 'alice', groups: ['developers', 'system:authenticated'] } }, NOW), []);
  });
  const bad: Array<[string, object, RegExp]> = [
    ['a malformed user', { ...OK, user: 'a:b:c' }, /spec\.user: .*<name\|uid>\[:<group\|gid>\]/],
    ['an empty user', { ...OK, user: '' }, /spec\.user/],
    ['a user with a shell metacharacter', { ...OK, user: 'alice;id' }, /^spec\.user: invalid user spec "alice;id": the user name "alice;id" contains ";"/],
    ['a command substitution as user', { ...OK, user: '$(id)' }, /^spec\.user: .*contains "\$"/],
    ['backquotes as user', { ...OK, user: '`id`' }, /^spec\.user: .*contains "`"/],
    ['a path as user', { ...OK, user: '../etc/passwd' }, /^spec\.user: .*contains "\/"/],
    ['a group with a metacharacter', { ...OK, user: 'alice:ops&' }, /^spec\.user: .*the group name "ops&" contains "&"/],
    ['a user name of 33 characters', { ...OK, user: 'a'.repeat(33) }, /^spec\.user: .*33 characters long, the limit is 32/],
    ['a bad ttl', { ...OK, ttl: '10 minutes' }, /spec\.ttl: .*"10 minutes"/],
    ['a zero ttl', { ...OK, ttl: '0s' }, /spec\.ttl/],
    ['a container name with capitals', { ...OK, container: 'App' }, /spec\.container: "App" is not a container name/],
    ['an empty command', { ...OK, command: [] }, /spec\.command: give at least the program/],
    ['an empty program', { ...OK, command: [''] }, /spec\.command\[0\]/],
    ['a command of 160 kB', { ...OK, command: Array.from({ length: 20 }, () => 'x'.repeat(8000)) }, /^spec\.command: 160020 bytes in all, the limit is 65536 \(64 KiB/],
    ['a command of 257 arguments', { ...OK, command: Array.from({ length: 257 }, () => 'a') }, /^spec\.command: 257 arguments, the limit is 256/],
    ['tty false without a command', { ...OK, tty: false }, /tty: false runs one command/],
    ['onBehalfOf without a user name', { ...OK, onBehalfOf: { username: '' } }, /spec\.onBehalfOf\.username: name the user/],
    ['onBehalfOf asserting system:masters', { ...OK, onBehalfOf: { username: 'alice', groups: ['developers', 'system:masters'] } }, /spec\.onBehalfOf\.groups: "system:masters" is a Kubernetes system group/],
    ['onBehalfOf a system identity', { ...OK, onBehalfOf: { username: 'system:kube-controller-manager' } }, /spec\.onBehalfOf\.username: "system:kube-controller-manager" is a Kubernetes system identity/],
    ['a notAfter that is not a time', { ...OK, notAfter: 'tomorrow' }, /^spec\.notAfter: "tomorrow" is not an RFC 3339 time; give the session's absolute end as e\.g\./],
    ['a notAfter without a zone', { ...OK, notAfter: '2026-11-22T12:00:00' }, /^spec\.notAfter: .*is not an RFC 3339 time/],
    // The GitOps case (issue 17): a session re-applied after its end, named by its end time.
    ['a notAfter that has passed', { ...OK, notAfter: '2026-11-22T09:59:59Z' }, /^spec\.notAfter: this session ended at 2026-11-22T09:59:59Z \(its notAfter; now 2026-11-22T10:00:00Z\) and is never created again after its end/],
    ['a notAfter of exactly now', { ...OK, notAfter: '2026-11-22T10:00:00Z' }, /^spec\.notAfter: this session ended at 2026-11-22T10:00:00Z/],
    // Read to the whole second before it: a session never outlives its notAfter.
    ['a notAfter within the second that has begun', { ...OK, notAfter: '2026-11-22T10:00:00.5Z' }, /^spec\.notAfter: this session ended at 2026-11-22T10:00:00.5Z/],
    ['a passed notAfter in another zone', { ...OK, notAfter: '2026-11-22T10:30:00+01:00' }, /^spec\.notAfter: this session ended at 2026-11-22T10:30:00\+01:00/],
  ];
  it('accepts a notAfter still to come, in any zone, with fractions', () => {
    for (const notAfter of ['2026-11-22T10:00:01Z', '2026-11-22T11:30:00+01:00', '2026-11-22T10:00:01.5Z', '2027-01-01t00:00:00z']) {
      assert.deepEqual(validateCreate({ ...OK, notAfter }, NOW), [], notAfter);
    }
  });
  for (const [name, spec, message] of bad) {
    it(`refuses ${name}, saying what to do`, () => {
      const problems = validateCreate(spec as never, NOW);
      assert.equal(problems.length >= 1, true);
      assert.match(problems.join('\n'), message);
    });
  }
});

describe('validateUpdate', () => {
  const before = { ...OK, command: ['id'], tty: false, requester: { username: 'alice', groups: ['developers'], stampedAt: 'x', signature: 's' } };
  it('allows an update that changes nothing in spec (labels, annotations, finalizers)', () => {
    assert.deepEqual(validateUpdate({ ...before, reason: 'INC-1' }, { ...before, reason: 'INC-1' }), []);
  });
  it('refuses adding, changing or removing spec.reason, kept for the record', () => {
    const message = [/^spec\.reason is kept for the record and cannot be changed once the session exists; give further reasons with revoke, approve or deny \(--reason\)/];
    for (const [from, to] of [[undefined, 'added later'], ['INC-1', 'INC-2'], ['INC-1', undefined]] as const) {
      const problems = validateUpdate({ ...before, reason: from }, { ...before, reason: to });
      assert.equal(problems.length, 1, `${from} -> ${to}`);
      assert.match(problems[0] ?? '', message[0]!);
    }
  });
  it('refuses adding, changing or removing spec.notAfter, the absolute end', () => {
    const ends = { ...before, notAfter: '2026-11-22T11:00:00Z' };
    for (const [a, b] of [[before, ends], [ends, { ...ends, notAfter: '2026-11-23T11:00:00Z' }], [ends, before]] as const) {
      assert.deepEqual(validateUpdate(a, b), ['spec.notAfter is the session\'s absolute end, fixed at creation, and cannot be changed; revoke the session to end it sooner, or create a new session for longer']);
    }
    assert.deepEqual(validateUpdate(ends, { ...ends }), []);
  });
  for (const [field, value] of [['podName', 'db'], ['container', 'sidecar'], ['user', 'root'], ['command', ['sh']], ['tty', true], ['ttl', '24h']] as const) {
    it(`refuses a change of spec.${field}`, () => {
      assert.deepEqual(validateUpdate(before, { ...before, [field]: value }), [`spec.${field} cannot be changed once the session exists; create a new ExecSession instead`]);
    });
  }
  it('refuses adding, changing or removing spec.onBehalfOf', () => {
    const delegated = { ...before, onBehalfOf: { username: 'alice', groups: ['developers'] } };
    const message = ['spec.onBehalfOf cannot be changed once the session exists; create a new ExecSession instead'];
    assert.deepEqual(validateUpdate(before, delegated), message);
    assert.deepEqual(validateUpdate(delegated, { ...delegated, onBehalfOf: { username: 'bob' } }), message);
    assert.deepEqual(validateUpdate(delegated, before), message);
    assert.deepEqual(validateUpdate(delegated, { ...delegated }), []);
  });
  it('refuses a change of the stamp, and its removal', () => {
    assert.match(validateUpdate(before, { ...before, requester: { ...before.requester, username: 'bob' } }).join(), /stamped by the admission webhook/);
    assert.match(validateUpdate(before, { ...OK, command: ['id'], tty: false }).join(), /stamped by the admission webhook/);
  });
});
