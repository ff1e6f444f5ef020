import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLifetime, extended, FALLBACK_TTL, hasExpired, lifetimeStatus, recordedLifetime, remainingMs, sessionTtlMs } from './lifetime.js';

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
