import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import { ageOf, expiresColumn, formatAge, formatTable, relativeTime, sessionTable } from './format.js';

const NOW = new Date('2026-11-22T08:00:00Z');
const at = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function session(name: string, status: ExecSessionStatus | undefined, extra: Partial<ExecSession['spec']> = {}): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name, namespace: 'shop', creationTimestamp: at(-5 * M) as unknown as Date },
    spec: { podName: 'web-7d4f', user: 'postgres', requester: { username: 'alice' }, ...extra },
    status,
  };
}

describe('formatAge (kubectl HumanDuration)', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'], [-500, '0s'], [0, '0s'], [45 * S, '45s'], [119 * S, '119s'], [2 * M, '2m'], [5 * M + 30 * S, '5m30s'],
    [10 * M, '10m'], [150 * M, '150m'], [3 * H, '3h'], [3 * H + 5 * M, '3h5m'], [8 * H, '8h'], [47 * H, '47h'], [2 * D, '2d'],
    [3 * D + 4 * H, '3d4h'], [8 * D, '8d'], [400 * D, '400d'], [2 * 365 * D + 10 * D, '2y10d'], [9 * 365 * D, '9y'],
  ];
  for (const [ms, text] of cases) it(`${ms} ms is ${text}`, () => assert.equal(formatAge(ms), text));

  it('ageOf reads RFC 3339 and says <unknown> otherwise', () => {
    assert.equal(ageOf(at(-90 * S), NOW), '90s');
    assert.equal(ageOf(undefined, NOW), '<unknown>');
    assert.equal(ageOf('yesterday', NOW), '<unknown>');
  });
});

describe('relative times (luxon)', () => {
  it('future and past', () => {
    assert.equal(relativeTime(at(14 * M), NOW), 'in 14 minutes');
    assert.equal(relativeTime(at(-3 * M), NOW), '3 minutes ago');
    assert.equal(relativeTime(undefined, NOW), '-');
    assert.equal(relativeTime('soon', NOW), '<invalid>');
  });

  it('EXPIRES: relative while alive and for Expired, - once ended otherwise', () => {
    assert.equal(expiresColumn(session('a', { phase: 'Ready', expiresAt: at(10 * M) }), NOW), 'in 10 minutes');
    assert.equal(expiresColumn(session('a', { phase: 'Expired', expiresAt: at(-2 * M) }), NOW), '2 minutes ago');
    assert.equal(expiresColumn(session('a', { phase: 'Succeeded', expiresAt: at(10 * M) }), NOW), '-');
    assert.equal(expiresColumn(session('a', { phase: 'Pending' }), NOW), '-');
  });
});

describe('tables', () => {
  it('pads columns three spaces apart without trailing blanks', () => {
    assert.equal(formatTable(['NAME', 'AGE'], [['a', '1s'], ['longer-name', '10m']]), 'NAME          AGE\na             1s\nlonger-name   10m\n');
    assert.equal(formatTable(['A', 'B'], [['x', '']]), 'A   B\nx\n');
  });

  it('lists sessions like kubectl', () => {
    const rows = [
      session('debug-web', { phase: 'Ready', container: 'app', expiresAt: at(10 * M) }, { reason: 'INC-1' }),
      session('run-x', undefined, { container: 'db', onBehalfOf: { username: 'bob' } } as Partial<ExecSession['spec']>),
    ];
    assert.equal(sessionTable(rows, NOW), [
      'NAME        POD        CONTAINER   USER       SUBJECT   PHASE     EXPIRES         AGE',
      'debug-web   web-7d4f   app         postgres   alice     Ready     in 10 minutes   5m',
      'run-x       web-7d4f   db          postgres   bob       Pending   -               5m',
      '',
    ].join('\n'));
  });

  it('-A adds NAMESPACE first; wide adds node, backend, uid:gid and reason', () => {
    const s = session('dbg', { phase: 'Ready', node: 'node-1', backend: 'runtime', user: { uid: 999, gid: 999, groups: [999], home: '/', root: false, rootGroup: false }, expiresAt: at(M) }, { reason: 'INC-1' });
    const text = sessionTable([s, session('none', undefined, { requester: undefined })], NOW, { wide: true, namespaces: true });
    const [header, first, second] = text.split('\n');
    assert.match(header!, /^NAMESPACE\s+NAME\s+POD\s+CONTAINER\s+USER\s+SUBJECT\s+PHASE\s+EXPIRES\s+AGE\s+NODE\s+BACKEND\s+UID:GID\s+REASON$/);
    assert.match(first!, /^shop\s+dbg\s+.*\s+node-1\s+runtime\s+999:999\s+INC-1$/);
    assert.match(second!, /^shop\s+none\s+web-7d4f\s+<none>\s+postgres\s+<none>\s+Pending\s+-\s+5m\s+<none>\s+<none>\s+<none>\s+<none>$/);
  });
});
