import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_PATTERN, MAX_DURATION_MS, formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const cases: [string, number][] = [
    ['30s', 30_000],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['1m500ms', 60_500],
    ['2h0m5s', 7_205_000],
    ['168h', MAX_DURATION_MS],
  ];
  for (const [text, ms] of cases) {
    it(`parses ${text} as ${ms}ms`, () => assert.equal(parseDuration(text), ms));
  }

  it('rejects malformed text, naming the value and giving an example', () => {
    for (const bad of ['', '15', 'm', '1d', '-5m', ' 5m', '5 m', '.5h', '1h-30m', '5M', 'abc']) {
      assert.throws(() => parseDuration(bad), (err: Error) => {
        assert.match(err.message, new RegExp(`invalid duration ${JSON.stringify(bad)}`));
        assert.match(err.message, /e\.g\. "30s"/);
        return true;
      });
    }
  });

  it('rejects zero, including values that round to zero', () => {
    for (const zero of ['0s', '0h0m', '0.0001ms']) {
      assert.throws(() => parseDuration(zero), /must be more than zero/);
    }
  });

  it('rejects more than 7 days', () => {
    assert.throws(() => parseDuration('168h1ms'), /at most 168h \(7 days\).*"24h"/);
    assert.throws(() => parseDuration('99999999999999999999h'), /at most 168h/);
  });

  it('accepts exactly what the CRD pattern accepts', () => {
    assert.equal(DURATION_PATTERN.test('1h30m'), true);
    assert.equal(DURATION_PATTERN.test('1h 30m'), false);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [500, '500ms'],
    [45_000, '45s'],
    [90_000, '1m30s'],
    [90_500, '1m30.5s'],
    [5_400_000, '1h30m'],
    [3_600_000, '1h'],
    [3_605_000, '1h5s'],
    [MAX_DURATION_MS, '168h'],
    [-45_000, '-45s'],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms}ms as ${text}`, () => assert.equal(formatDuration(ms), text));
  }

  it('round-trips through parseDuration', () => {
    for (const text of ['1h30m', '45s', '1m30.5s', '500ms', '168h', '2h5s']) {
      assert.equal(formatDuration(parseDuration(text)), text);
    }
  });

  it('refuses non-finite input', () => {
    assert.throws(() => formatDuration(Number.NaN), RangeError);
    assert.throws(() => formatDuration(Number.POSITIVE_INFINITY), RangeError);
  });
});
