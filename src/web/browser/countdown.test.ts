import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { countdown, followExpiry, formatLeft } from './countdown.js';

describe('the page countdown', () => {
  it('formats what is left', () => {
    assert.equal(formatLeft(7_400), '7s');
    assert.equal(formatLeft(249_000), '4m 09s');
    assert.equal(formatLeft(3_725_000), '1h 02m 05s');
    assert.equal(formatLeft(-5), '0s');
  });

  it('counts down each second and moves to a new expiry', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-12-06T10:00:00Z') });
    try {
      const el = { textContent: '' };
      const c = countdown('2026-12-06T10:00:05Z', el);
      assert.equal(el.textContent, 'in 5s (2026-12-06T10:00:05Z)');
      mock.timers.tick(1000);
      assert.equal(el.textContent, 'in 4s (2026-12-06T10:00:05Z)');
      c.set('2026-12-06T10:10:00Z');
      assert.equal(el.textContent, 'in 9m 59s (2026-12-06T10:10:00Z)');
      c.set('');
      c.set('not a time');
      assert.equal(c.end(), Date.parse('2026-12-06T10:10:00Z'));
      mock.timers.tick(10 * 60_000);
      assert.equal(el.textContent, 'expired (2026-12-06T10:10:00Z)');
      c.stop();
    } finally {
      mock.timers.reset();
    }
  });

  it('shows nothing to count without an expiry', () => {
    const el = { textContent: 'never' };
    countdown('', el).stop();
    assert.equal(el.textContent, 'never');
  });
});

describe('following an extend', () => {
  it('asks the page (HEAD) each round, moves the countdown, and stops at a refusal', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-12-06T10:00:00Z') });
    try {
      const el = { textContent: '' };
      const c = countdown('2026-12-06T10:05:00Z', el);
      const answers = [
        { ok: true, headers: new Headers({ 'Execsession-Expires-At': '2026-12-06T10:35:00Z' }) },
        { ok: false, headers: new Headers() },
      ];
      const asked: RequestInit[] = [];
      followExpiry('https://k/terminal', c, 1000, async (url, init) => {
        assert.equal(url, 'https://k/terminal');
        asked.push(init);
        const a = answers.shift();
        if (!a) throw new Error('asked after a refusal');
        return a;
      });
      assert.equal(asked.length, 0, 'nothing asked before the first round');
      mock.timers.tick(1000);
      await new Promise((r) => setImmediate(r));
      assert.equal(asked[0]?.method, 'HEAD');
      assert.equal(c.end(), Date.parse('2026-12-06T10:35:00Z'));
      assert.match(el.textContent, /^in 34m 59s/);
      mock.timers.tick(1000);
      await new Promise((r) => setImmediate(r));
      mock.timers.tick(5000);
      await new Promise((r) => setImmediate(r));
      assert.equal(asked.length, 2, 'no more asking after the refusal');
      c.stop();
    } finally {
      mock.timers.reset();
    }
  });

  it('keeps asking after a network error, and not after it is stopped', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    try {
      const c = countdown('', { textContent: '' });
      let asked = 0;
      const stop = followExpiry('/t', c, 1000, async () => {
        asked++;
        throw new TypeError('offline');
      });
      for (let i = 0; i < 3; i++) {
        mock.timers.tick(1000);
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(asked, 3);
      stop();
      mock.timers.tick(5000);
      await new Promise((r) => setImmediate(r));
      assert.equal(asked, 3);
    } finally {
      mock.timers.reset();
    }
  });
});
