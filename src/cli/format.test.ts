import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, relativeTime } from './format.js';

const NOW = new Date('2026-11-22T08:00:00Z');
const at = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();
const M = 60_000;

describe('relative times (luxon)', () => {
  it('future and past', () => {
    assert.equal(relativeTime(at(14 * M), NOW), 'in 14 minutes');
    assert.equal(relativeTime(at(-3 * M), NOW), '3 minutes ago');
    assert.equal(relativeTime(undefined, NOW), '-');
    assert.equal(relativeTime('soon', NOW), '<invalid>');
  });
});

describe('tables', () => {
  it('pads columns three spaces apart without trailing blanks', () => {
    assert.equal(formatTable(['NAME', 'AGE'], [['a', '1s'], ['longer-name', '10m']]), 'NAME          AGE\na             1s\nlonger-name   10m\n');
    assert.equal(formatTable(['A', 'B'], [['x', '']]), 'A   B\nx\n');
  });
});
