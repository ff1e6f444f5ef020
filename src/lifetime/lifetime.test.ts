import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessEndedAt, decideLifetime, extendLimit, extended, FALLBACK_TTL, hasExpired, lifetimeStatus, notAfterMs, notAfterProblem, recordedLifetime, remainingMs, sessionTtlMs, timeUp, untilNotAfterMs } from './lifetime.js';

const MIN = 60_000;

describe('sessionTtlMs: spec.ttl, else ttl.default, else the one fallback', () => {
  const cases: [string, number | undefined, { defaultTtlMs?: number; maxTtlMs: number }, number][] = [
    ["the session's own ttl", 20 * MIN, { defaultTtlMs: 5 * MIN, maxTtlMs: 10 * MIN }, 20 * MIN],
    ["the policy's ttl.default (issue 12: {default: 5m, max: 10m})", undefined, { defaultTtlMs: 5 * MIN, maxTtlMs: 10 * MIN }, 5 * MIN],
    ['the fallback, 15m', undefined, { maxTtlMs: 60 * MIN }, 15 * MIN],
    ['the fallback capped at a shorter ttl.max', undefined, { maxTtlMs: 10 * MIN }, 10 * MIN],
  ];
  for (const [name, spec, terms, want] of cases) {
    it(name, () => assert.equal(sessionTtlMs(spec, terms), want));
  }

  it('has one fallback, 15m', () => assert.equal(FALLBACK_TTL, '15m'));
});

describe('decideLifetime', () => {
  it('starts on a whole second and lasts exactly the ttl', () => {
    const l = decideLifetime(new Date('2026-11-22T10:00:00.250Z'), 5 * MIN, 10 * MIN);
    assert.deepEqual(lifetimeStatus(l), { startedAt: '2026-11-22T10:00:01Z', expiresAt: '2026-11-22T10:05:01Z', extendableUntil: '2026-11-22T10:10:01Z' });
  });

  it('lets an extend reach the longer of the ttl and ttl.max, never more than 168h', () => {
    const start = new Date('2026-11-22T10:00:00Z');
    assert.equal(lifetimeStatus(decideLifetime(start, 30 * MIN, 10 * MIN)).extendableUntil, '2026-11-22T10:30:00Z');
    assert.equal(lifetimeStatus(decideLifetime(start, 30 * MIN, 200 * 60 * MIN)).extendableUntil, '2026-11-29T10:00:00Z');
  });

  it('is never early, and at most a second late for whole-second ttls', () => {
    const base = Date.parse('2024-05-01T10:00:00Z');
    for (let i = 0; i < 500; i++) {
      const now = base + ((i * 7919) % 100_000);
      const ttl = 1000 * (1 + ((i * 104_729) % 3_600));
      const l = decideLifetime(new Date(now), ttl, ttl);
      assert.ok(l.startedAt.getTime() >= now && l.startedAt.getTime() < now + 1000);
      assert.equal(l.expiresAt.getTime() - l.startedAt.getTime(), ttl);
      assert.equal(l.expiresAt.getTime() % 1000, 0);
    }
  });

  it('rounds a sub-second ttl up to the next second', () => {
    const l = decideLifetime(new Date('2024-05-01T10:00:00.000Z'), 500, 500);
    assert.equal(l.expiresAt.toISOString(), '2024-05-01T10:00:01.000Z');
  });
});

describe('recordedLifetime', () => {
  it('reads back what lifetimeStatus wrote', () => {
    const l = decideLifetime(new Date('2026-11-22T10:00:00Z'), 5 * MIN, 10 * MIN);
    assert.deepEqual(recordedLifetime(lifetimeStatus(l)), l);
  });

  it('is undefined before the session started, and has no extendableUntil from an older operator', () => {
    assert.equal(recordedLifetime(undefined), undefined);
    assert.equal(recordedLifetime({ phase: 'Pending' }), undefined);
    assert.equal(recordedLifetime({ startedAt: '2026-11-22T10:00:00Z' }), undefined);
    assert.deepEqual(recordedLifetime({ startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:15:00Z' }),
      { startedAt: new Date('2026-11-22T10:00:00Z'), expiresAt: new Date('2026-11-22T10:15:00Z') });
  });
});

describe('remainingMs and hasExpired', () => {
  const now = new Date('2024-05-01T10:00:00Z');
  const cases: [string | undefined, number][] = [
    [undefined, Number.POSITIVE_INFINITY],
    ['', Number.POSITIVE_INFINITY],
    ['2024-05-01T10:15:00Z', 15 * MIN],
    ['2024-05-01T10:00:00Z', 0],
    ['2024-05-01T09:59:59Z', -1000],
    ['2024-05-01T10:00:00.250Z', 250],
  ];
  for (const [expiresAt, want] of cases) {
    it(String(expiresAt), () => {
      assert.equal(remainingMs({ expiresAt }, now), want);
      assert.equal(hasExpired({ expiresAt }, now), want <= 0);
    });
  }
});

describe('extended', () => {
  it('moves the expiry and says how long the session then lasts', () => {
    const l = decideLifetime(new Date('2026-11-22T10:00:00Z'), 15 * MIN, 60 * MIN);
    assert.deepEqual(extended(l, 10 * MIN), { expiresAt: new Date('2026-11-22T10:25:00Z'), lifetimeMs: 25 * MIN, currentMs: 15 * MIN });
  });
});

describe('spec.notAfter: the absolute end a session carries from its creation (ADR 25)', () => {
  const start = new Date('2026-11-22T10:00:00Z');
  const at = (t: string): number => Date.parse(t);

  it('reads RFC 3339 in any zone, rounded down to a whole second; unset is undefined, unreadable has passed', () => {
    assert.equal(notAfterMs({}), undefined);
    assert.equal(notAfterMs({ notAfter: '2026-11-22T10:30:00.900Z' }), at('2026-11-22T10:30:00Z'));
    assert.equal(notAfterMs({ notAfter: '2026-11-22T11:30:00+01:00' }), at('2026-11-22T10:30:00Z'));
    for (const bad of ['tomorrow', '2026-11-22', '2026-11-22T10:30:00', '']) assert.equal(notAfterMs({ notAfter: bad }), Number.NEGATIVE_INFINITY, bad);
  });

  it('caps expiresAt and extendableUntil at notAfter, however long the ttl and ttl.max', () => {
    const l = decideLifetime(start, 60 * MIN, 120 * MIN, at('2026-11-22T10:20:00Z'));
    assert.deepEqual(lifetimeStatus(l), { startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:20:00Z', extendableUntil: '2026-11-22T10:20:00Z' });
  });

  it('leaves a lifetime that ends before notAfter alone, and lets extend reach notAfter at most', () => {
    const l = decideLifetime(start, 15 * MIN, 120 * MIN, at('2026-11-22T11:00:00Z'));
    assert.deepEqual(lifetimeStatus(l), { startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:15:00Z', extendableUntil: '2026-11-22T11:00:00Z' });
  });

  it('never records an expiry before the start, even when notAfter passed in between', () => {
    const l = decideLifetime(new Date('2026-11-22T10:00:00.400Z'), 15 * MIN, 15 * MIN, at('2026-11-22T10:00:00Z'));
    assert.equal(l.expiresAt.getTime(), l.startedAt.getTime());
    assert.ok(hasExpired(lifetimeStatus(l), l.startedAt));
  });

  it('never lets expiresAt pass notAfter, over many starts, ttls and ends', () => {
    for (let i = 0; i < 300; i++) {
      const begin = at('2026-11-22T10:00:00Z') + ((i * 7919) % 100_000);
      const ttl = 1000 * (1 + ((i * 104_729) % 7_200));
      const end = at('2026-11-22T10:00:00Z') + 1000 * ((i * 15_485_863) % 7_200);
      const l = decideLifetime(new Date(begin), ttl, 2 * ttl, end);
      assert.ok(l.expiresAt.getTime() <= Math.max(end, l.startedAt.getTime()), `case ${i}`);
      assert.ok(l.extendableUntil.getTime() <= Math.max(end, l.startedAt.getTime()), `case ${i}`);
      assert.ok(l.expiresAt.getTime() >= l.startedAt.getTime(), `case ${i}`);
    }
  });

  it('extend stops at notAfter when it comes before the recorded limit, and says so', async () => {
    const l = decideLifetime(start, 15 * MIN, 120 * MIN);
    const never = (): Promise<number> => assert.fail('the recorded limit is used');
    assert.deepEqual(await extendLimit(l, { notAfter: '2026-11-22T10:45:00Z' }, never), { untilMs: at('2026-11-22T10:45:00Z'), by: 'notAfter' });
    assert.deepEqual(await extendLimit(l, { notAfter: '2026-11-22T13:00:00Z' }, never), { untilMs: at('2026-11-22T12:00:00Z'), by: 'policy' });
    assert.deepEqual(await extendLimit(l, {}, never), { untilMs: at('2026-11-22T12:00:00Z'), by: 'policy' });
    // A session an older operator started: the helper's deadline, still capped.
    const old = { startedAt: l.startedAt, expiresAt: l.expiresAt };
    assert.deepEqual(await extendLimit(old, { notAfter: '2026-11-22T10:30:00Z' }, async () => at('2026-11-22T11:00:00Z')), { untilMs: at('2026-11-22T10:30:00Z'), by: 'notAfter' });
  });

  it('refuses at admission a notAfter that has passed or cannot be read, naming the end time', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    assert.equal(notAfterProblem({}, now), undefined);
    assert.equal(notAfterProblem({ notAfter: '2026-11-22T10:00:01Z' }, now), undefined);
    assert.match(notAfterProblem({ notAfter: '2026-11-22T10:00:00Z' }, now) ?? '', /^spec\.notAfter: this session ended at 2026-11-22T10:00:00Z \(its notAfter; now 2026-11-22T10:00:00Z\)/);
    assert.match(notAfterProblem({ notAfter: '2026-11-22T10:00:00.999Z' }, now) ?? '', /ended at 2026-11-22T10:00:00\.999Z/);
    assert.match(notAfterProblem({ notAfter: 'soon' }, now) ?? '', /^spec\.notAfter: "soon" is not an RFC 3339 time/);
  });

  it('ends a session at notAfter whether or not it started, and by its ttl otherwise', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    assert.equal(timeUp({ notAfter: '2026-11-22T10:00:01Z' }, undefined, now), undefined);
    assert.deepEqual(timeUp({ notAfter: '2026-11-22T10:00:00Z' }, undefined, now)?.reason, 'NotAfterPassed');
    assert.match(timeUp({ notAfter: '2026-11-22T09:00:00Z' }, undefined, now)?.message ?? '', /did not start before its spec\.notAfter \(2026-11-22T09:00:00Z\)/);
    assert.match(timeUp({ notAfter: '2026-11-22T09:00:00Z' }, { startedAt: '2026-11-22T08:00:00Z', expiresAt: '2026-11-22T09:00:00Z' }, now)?.message ?? '', /ended at its spec\.notAfter \(2026-11-22T09:00:00Z\)/);
    assert.deepEqual(timeUp({}, { startedAt: '2026-11-22T09:00:00Z', expiresAt: '2026-11-22T09:59:00Z' }, now), { reason: 'TtlElapsed', message: "the session's ttl elapsed at 2026-11-22T09:59:00Z" });
    assert.equal(timeUp({}, { startedAt: '2026-11-22T09:00:00Z', expiresAt: '2026-11-22T10:01:00Z' }, now), undefined);
  });

  it('tells a waiting session how long until notAfter', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    assert.equal(untilNotAfterMs({ notAfter: '2026-11-22T10:00:30Z' }, now), 30_000);
    assert.equal(untilNotAfterMs({}, now), Number.POSITIVE_INFINITY);
  });
});

describe('accessEndedAt: when an expired session\'s access ended', () => {
  const status = { expiresAt: '2026-12-06T09:00:00Z' };
  const at = (iso: string): Date => new Date(iso);
  const now = at('2026-12-06T09:00:07Z');
  const cases: [string, Date | undefined, Date, typeof status | undefined][] = [
    ['the helper ended it at expiry while no operator ran: its time', at('2026-12-06T09:00:00Z'), at('2026-12-06T09:00:00Z'), status],
    ['a second before (the kubelet\'s whole seconds): its time', at('2026-12-06T08:59:59Z'), at('2026-12-06T08:59:59Z'), status],
    ['earlier than that: not the expiry, the operator\'s own time', at('2026-12-06T08:59:58Z'), now, status],
    ['in the future: the operator\'s own time', at('2026-12-06T09:00:08Z'), now, status],
    ['no evidence: the operator\'s own time', undefined, now, status],
    ['no recorded expiry: the operator\'s own time', at('2026-12-06T09:00:00Z'), now, undefined],
  ];
  for (const [name, helperEnd, want, st] of cases) it(name, () => assert.deepEqual(accessEndedAt(st, helperEnd, now), want));
});
