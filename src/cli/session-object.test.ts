import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeArgv, requireDashDash } from './argv.js';
import { UsageError } from './errors.js';
import { buildSession, createMode, resolveNotAfter, type CreateArgs } from './session-object.js';

const BASE: CreateArgs = { pod: 'target', namespace: 'shop', user: 'alice', command: [] };

describe('createMode', () => {
  const cases: [string, Partial<CreateArgs>, boolean, ReturnType<typeof createMode>][] = [
    ['no command, no flags: create only', {}, true, { kind: 'create' }],
    ['a command: run once', { command: ['id'] }, true, { kind: 'run' }],
    ['a command with --tty=false only: still run', { command: ['id'], tty: false }, true, { kind: 'run' }],
    ['--attach follows the terminal (tty)', { attach: true }, true, { kind: 'attach', tty: true }],
    ['--attach follows the terminal (pipe)', { attach: true }, false, { kind: 'attach', tty: false }],
    ['--attach --tty=false', { attach: true, tty: false }, true, { kind: 'attach', tty: false }],
    ['-it', { stdin: true, tty: true }, false, { kind: 'attach', tty: true }],
    ['-i alone: a pipe, as kubectl exec -i', { stdin: true }, true, { kind: 'attach', tty: false }],
    ['-t with a command: attach with a terminal', { command: ['top'], tty: true }, false, { kind: 'attach', tty: true }],
  ];
  for (const [what, args, isTTY, mode] of cases) {
    it(what, () => assert.deepEqual(createMode({ ...BASE, ...args }, isTTY), mode));
  }
});

describe('buildSession', () => {
  it('a one-off command: tty false, command, named after the pod, in its namespace', () => {
    const args = { ...BASE, command: ['id', '-u'], ttl: '5m' };
    assert.deepEqual(buildSession(args, createMode(args, true), 'x7k2q'), {
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
      metadata: { name: 'target-x7k2q', namespace: 'shop' },
      spec: { podName: 'target', user: 'alice', command: ['id', '-u'], tty: false, ttl: '5m' },
    });
  });

  it('create only: an interactive (tty) session with every optional field', () => {
    const args = { ...BASE, container: 'db', name: 'debug-web', reason: 'INC-1234', ttl: '1h30m', user: 'postgres:999' };
    assert.deepEqual(buildSession(args, { kind: 'create' }), {
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
      metadata: { name: 'debug-web', namespace: 'shop' },
      spec: { podName: 'target', container: 'db', user: 'postgres:999', tty: true, ttl: '1h30m', reason: 'INC-1234' },
    });
  });

  it('generated names: a random 5-character suffix, within the name length limit', () => {
    const names = new Set(Array.from({ length: 50 }, () => buildSession(BASE, { kind: 'create' }).metadata.name));
    assert.ok(names.size > 45);
    for (const n of names) assert.match(n ?? '', /^target-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const long = buildSession({ ...BASE, pod: `${'a'.repeat(246)}-b` }, { kind: 'create' }, 'zzzzz').metadata.name ?? '';
    assert.equal(long, `${'a'.repeat(246)}-zzzzz`);
    assert.ok(long.length <= 253);
  });

  it('attach (-i without -t too) makes an interactive session with the command, so it can be attached', () => {
    const s = buildSession({ ...BASE, command: ['psql'] }, { kind: 'attach', tty: false });
    assert.equal(s.spec.tty, true, 'a tty: false session with a command is a one-shot job that cannot be attached');
    assert.deepEqual(s.spec.command, ['psql']);
  });

  it('refuses bad input before any request, saying what to do (usage errors, exit 1)', () => {
    const bad: [Partial<CreateArgs>, RegExp][] = [
      [{ ttl: '5' }, /--ttl: invalid duration "5".*e\.g\. "30s"/],
      [{ ttl: '8d' }, /--ttl: invalid duration/],
      [{ user: ' ' }, /-u\/--user is empty.*-u postgres/],
      [{ user: 'alice;id' }, /-u\/--user: invalid user spec "alice;id": the user name "alice;id" contains ";"/],
      [{ pod: 'Web_1' }, /invalid pod name "Web_1"/],
      [{ name: 'Bad Name' }, /invalid --name "Bad Name"/],
    ];
    for (const [args, message] of bad) {
      assert.throws(() => buildSession({ ...BASE, ...args }, { kind: 'create' }), (e: Error) => e instanceof UsageError && e.exitCode === 1 && message.test(e.message));
    }
  });
});

describe('--not-after: the absolute end (spec.notAfter)', () => {
  const now = new Date('2026-11-22T10:00:00.300Z');
  it('keeps an RFC 3339 time as given, and turns a duration from now into one, in whole seconds', () => {
    assert.equal(resolveNotAfter('2026-12-01T18:00:00Z', now), '2026-12-01T18:00:00Z');
    assert.equal(resolveNotAfter('2026-12-01T19:00:00+01:00', now), '2026-12-01T19:00:00+01:00');
    assert.equal(resolveNotAfter('8h', now), '2026-11-22T18:00:01Z');
  });
  it('refuses anything else as a usage error that says what it is', () => {
    assert.throws(() => resolveNotAfter('tomorrow', now), (e: Error) => e instanceof UsageError && /--not-after: "tomorrow" is neither an RFC 3339 time .* nor a duration from now/.test(e.message));
  });
  it('is sent as spec.notAfter', () => {
    assert.equal(buildSession({ ...BASE, notAfter: '2026-12-01T18:00:00Z' }, { kind: 'create' }).spec.notAfter, '2026-12-01T18:00:00Z');
    assert.equal('notAfter' in buildSession(BASE, { kind: 'create' }).spec, false);
  });
});

describe('argv', () => {
  it('rewrites kubectl-style booleans before "--" only', () => {
    assert.deepEqual(normalizeArgv(['create', 'p', '--tty=false', '--stdin=true', '--', 'x', '--tty=false']),
      ['create', 'p', '--no-tty', '--stdin', '--', 'x', '--tty=false']);
    assert.deepEqual(normalizeArgv(['get', '--output=json']), ['get', '--output=json']);
    assert.throws(() => normalizeArgv(['--tty=yes']), /--tty=yes: use --tty=true or --tty=false/);
  });

  it('requires "--" before a command', () => {
    assert.doesNotThrow(() => requireDashDash(['create', 'p', '--', 'id'], ['id']));
    assert.doesNotThrow(() => requireDashDash(['create', 'p'], []));
    assert.throws(() => requireDashDash(['create', 'p', 'id'], ['id']), /put the command to run after "--", e\.g\. "-- id"/);
  });
});
