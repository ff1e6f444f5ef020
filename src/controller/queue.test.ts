import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Outcome, WorkQueue } from './queue.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import { sample } from '../../test/support/metrics.js';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves once `cond` holds, polling; fails the test after `ms`. */
async function until(cond: () => boolean, ms = 500): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** Counts runs per key and tracks how many workers run at once, in total and per key. */
class Recorder {
  readonly runs = new Map<string, number>();
  readonly times = new Map<string, number[]>();
  readonly active = new Map<string, number>();
  running = 0;
  maxRunning = 0;
  maxPerKey = 0;

  async around(key: string, body: () => Promise<Outcome | void>): Promise<Outcome | void> {
    this.runs.set(key, (this.runs.get(key) ?? 0) + 1);
    this.times.set(key, [...(this.times.get(key) ?? []), Date.now()]);
    const k = (this.active.get(key) ?? 0) + 1;
    this.active.set(key, k);
    this.maxPerKey = Math.max(this.maxPerKey, k);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await body();
    } finally {
      this.running--;
      this.active.set(key, (this.active.get(key) ?? 1) - 1);
    }
  }

  count(key: string): number {
    return this.runs.get(key) ?? 0;
  }
}

describe('WorkQueue de-duplication', () => {
  it('works a key added many times while queued once', async () => {
    const rec = new Recorder();
    const g = gate();
    const q = new WorkQueue((key) => rec.around(key, () => (key === 'block' ? g.promise : Promise.resolve())), { concurrency: 1 });
    q.add('block');
    for (let i = 0; i < 5; i++) q.add('b');
    for (let i = 0; i < 3; i++) q.add('c');
    assert.equal(q.depth, 3);
    g.open();
    await q.idle();
    assert.deepEqual(Object.fromEntries(rec.runs), { block: 1, b: 1, c: 1 });
    assert.equal(q.depth, 0);
  });

  it('works a key added while in work again afterwards, exactly once', async () => {
    const rec = new Recorder();
    let g = gate();
    const q = new WorkQueue((key) => rec.around(key, () => g.promise), { concurrency: 2 });
    q.add('a');
    await until(() => rec.count('a') === 1);
    for (let i = 0; i < 4; i++) q.add('a');
    assert.equal(rec.count('a'), 1, 'not run again while in work');
    const first = g;
    g = gate();
    first.open();
    await until(() => rec.count('a') === 2);
    g.open();
    await q.idle();
    await sleep(20);
    assert.equal(rec.count('a'), 2);
    assert.equal(rec.maxPerKey, 1);
  });

  it('never runs one key in two workers at once', async () => {
    const rec = new Recorder();
    const q = new WorkQueue((key) => rec.around(key, () => sleep(3)), { concurrency: 4 });
    for (let round = 0; round < 10; round++) {
      for (const key of ['a', 'a', 'b', 'a', 'c']) q.add(key);
      await sleep(1);
    }
    await q.idle();
    await until(() => rec.running === 0);
    assert.equal(rec.maxPerKey, 1);
    assert.ok(rec.count('a') >= 2, 'a was worked again after adds in work');
  });
});

describe('WorkQueue concurrency', () => {
  for (const concurrency of [1, 2, 3]) {
    it(`runs at most ${concurrency} keys at once`, async () => {
      const rec = new Recorder();
      const q = new WorkQueue((key) => rec.around(key, () => sleep(10)), { concurrency });
      for (let i = 0; i < 7; i++) q.add(`k${i}`);
      assert.equal(rec.running, concurrency);
      await q.idle();
      assert.equal(rec.maxRunning, concurrency);
      assert.equal(rec.runs.size, 7);
    });
  }

  it('runs queued keys in the order they were added; a key added in work goes last', async () => {
    const order: string[] = [];
    const q = new WorkQueue(async (key) => {
      order.push(key);
      await sleep(1);
    }, { concurrency: 1 });
    for (const k of ['x', 'y', 'x', 'z', 'y']) q.add(k);
    await q.idle();
    // x is in work when added again, so it is worked once more after the queued y and z.
    assert.deepEqual(order, ['x', 'y', 'z', 'x']);
  });
});

describe('WorkQueue addAfter', () => {
  it('keeps the earliest delay, whichever comes first', async () => {
    const rec = new Recorder();
    const start = Date.now();
    const q = new WorkQueue((key) => rec.around(key, () => Promise.resolve()), { concurrency: 2 });
    q.addAfter('later-first', 150);
    q.addAfter('later-first', 20);
    q.addAfter('sooner-first', 20);
    q.addAfter('sooner-first', 150);
    await sleep(5);
    assert.equal(rec.runs.size, 0, 'nothing before its delay');
    await until(() => rec.count('later-first') === 1 && rec.count('sooner-first') === 1);
    for (const key of ['later-first', 'sooner-first']) {
      const t = (rec.times.get(key) ?? [])[0] ?? 0;
      assert.ok(t - start >= 19 && t - start < 120, `${key} ran after ${t - start} ms`);
    }
    await sleep(170);
    assert.equal(rec.count('later-first'), 1, 'the replaced timer never fires');
    assert.equal(rec.count('sooner-first'), 1, 'the later delay was dropped');
  });

  it('a delay of zero or less adds at once', async () => {
    const rec = new Recorder();
    const q = new WorkQueue((key) => rec.around(key, () => Promise.resolve()), { concurrency: 1 });
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    assert.equal(rec.count('a'), 1);
    await q.idle();
    assert.equal(rec.count('b'), 1);
  });

  it('uses the injected clock to compare delays', async () => {
    let now = 1_000;
    const rec = new Recorder();
    const q = new WorkQueue((key) => rec.around(key, () => Promise.resolve()), { concurrency: 1, now: () => now });
    q.addAfter('a', 20);
    now += 10_000;
    q.addAfter('a', 40);
    await until(() => rec.count('a') === 1);
    await sleep(40);
    assert.equal(rec.count('a'), 1);
  });
});

describe('WorkQueue failures', () => {
  it('retries a throwing worker with exponential backoff', async () => {
    const errors: [string, unknown, number][] = [];
    const rec = new Recorder();
    const boom = new Error('transient');
    const q = new WorkQueue((key) => rec.around(key, () => (rec.count(key) <= 4 ? Promise.reject(boom) : Promise.resolve())), {
      concurrency: 1, baseBackoffMs: 5, onError: (key, err, ms) => errors.push([key, err, ms]),
    });
    q.add('a');
    await until(() => rec.count('a') === 5);
    assert.deepEqual(errors.map((e) => e[2]), [5, 10, 20, 40]);
    assert.ok(errors.every(([k, e]) => k === 'a' && e === boom));
    const t = rec.times.get('a') ?? [];
    for (let i = 1; i < t.length; i++) {
      const gap = (t[i] ?? 0) - (t[i - 1] ?? 0);
      assert.ok(gap >= 5 * 2 ** (i - 1) - 1, `retry ${i} after ${gap} ms`);
    }
  });

  it('caps the backoff at maxBackoffMs', async () => {
    const delays: number[] = [];
    let n = 0;
    const q = new WorkQueue(() => (++n <= 5 ? Promise.reject(new Error('x')) : Promise.resolve()), {
      concurrency: 1, baseBackoffMs: 2, maxBackoffMs: 7, onError: (_k, _e, ms) => delays.push(ms),
    });
    q.add('a');
    await until(() => n === 6);
    assert.deepEqual(delays, [2, 4, 7, 7, 7]);
  });

  it('forgets failures after a success and counts them per key', async () => {
    const delays: string[] = [];
    let failA = 2;
    const q = new WorkQueue((key) => {
      if (key === 'b' || failA-- > 0) return Promise.reject(new Error(key));
      return Promise.resolve();
    }, { concurrency: 2, baseBackoffMs: 3, maxBackoffMs: 12, onError: (k, _e, ms) => delays.push(`${k}:${ms}`) });
    q.add('a');
    q.add('b');
    await until(() => delays.filter((d) => d.startsWith('a')).length === 2 && failA < 0);
    assert.deepEqual(delays.filter((d) => d.startsWith('a')), ['a:3', 'a:6']);
    failA = 1;
    q.add('a');
    await until(() => delays.filter((d) => d.startsWith('a')).length === 3);
    assert.equal(delays.filter((d) => d.startsWith('a'))[2], 'a:3', 'backoff restarts after a success');
    assert.deepEqual(delays.filter((d) => d.startsWith('b')).slice(0, 3), ['b:3', 'b:6', 'b:12']);
    await q.stop();
  });
});

describe('WorkQueue requeueAfterMs', () => {
  it('re-runs the key after the delay until the worker stops asking', async () => {
    const rec = new Recorder();
    const q = new WorkQueue((key) => rec.around(key, () => Promise.resolve(rec.count(key) < 3 ? { requeueAfterMs: 10 } : {})), { concurrency: 1 });
    q.add('a');
    await until(() => rec.count('a') === 3);
    await sleep(40);
    assert.equal(rec.count('a'), 3);
    const t = rec.times.get('a') ?? [];
    assert.ok((t[1] ?? 0) - (t[0] ?? 0) >= 9);
  });

  it('requeueAfterMs 0 re-runs the key right after', async () => {
    const rec = new Recorder();
    const q = new WorkQueue((key) => rec.around(key, () => Promise.resolve(rec.count(key) === 1 ? { requeueAfterMs: 0 } : undefined)), { concurrency: 3 });
    q.add('a');
    await until(() => rec.count('a') === 2);
    await q.idle();
    await sleep(10);
    assert.equal(rec.count('a'), 2);
    assert.equal(rec.maxPerKey, 1);
  });
});

describe('WorkQueue stop and idle', () => {
  it('idle resolves at once when nothing is queued', async () => {
    const q = new WorkQueue(() => Promise.resolve(), { concurrency: 1 });
    await q.idle();
    assert.equal(q.depth, 0);
  });

  it('idle resolves only after running and ready work is done', async () => {
    const g = gate();
    const done: string[] = [];
    const q = new WorkQueue(async (key) => {
      await g.promise;
      done.push(key);
    }, { concurrency: 1 });
    q.add('a');
    q.add('b');
    let idle = false;
    const p = q.idle().then(() => {
      idle = true;
    });
    await sleep(10);
    assert.equal(idle, false);
    g.open();
    await p;
    assert.deepEqual(done, ['a', 'b']);
  });

  it('stop resolves after in-flight work and prevents new work', async () => {
    const rec = new Recorder();
    const g = gate();
    const q = new WorkQueue((key) => rec.around(key, async () => {
      if (key === 'a') await g.promise;
      return { requeueAfterMs: 5 };
    }), { concurrency: 1 });
    q.add('a');
    q.add('queued');
    q.addAfter('timed', 10);
    q.add('a');
    let stopped = false;
    const p = q.stop().then(() => {
      stopped = true;
    });
    await sleep(10);
    assert.equal(stopped, false, 'stop waits for the running worker');
    q.add('new');
    q.addAfter('new-later', 1);
    g.open();
    await p;
    assert.equal(rec.running, 0);
    await sleep(30);
    assert.deepEqual(Object.fromEntries(rec.runs), { a: 1 }, 'nothing runs after stop');
  });

  it('stop with nothing running resolves at once', async () => {
    const q = new WorkQueue(() => Promise.resolve(), { concurrency: 1 });
    await q.stop();
    q.add('a');
    assert.equal(q.depth, 0);
  });
});

describe('WorkQueue metrics (workqueue_*)', () => {
  it('counts adds (not duplicates), depth, retries, and the time keys wait and are worked on', async () => {
    const metrics = new OperatorMetrics();
    let clock = 1_000;
    let fail = true;
    const g = gate();
    let calls = 0;
    const q = new WorkQueue(async (key) => {
      if (key === 'a') await g.promise;
      calls++;
      clock += 250;
      if (key === 'b' && fail) {
        fail = false;
        throw new Error('transient');
      }
    }, { concurrency: 1, baseBackoffMs: 1, now: () => clock, metrics: metrics.queue('test') });
    const labels = { name: 'test', controller: 'test' };
    q.add('a');
    q.add('b');
    q.add('b');
    assert.equal(await sample(metrics, 'workqueue_adds_total', labels), 2);
    assert.equal(await sample(metrics, 'workqueue_depth', labels), 2);
    clock += 500;
    g.open();
    await until(() => calls === 3);
    await q.idle();
    assert.equal(await sample(metrics, 'workqueue_retries_total', labels), 1);
    assert.equal(await sample(metrics, 'workqueue_adds_total', labels), 3, 'the retry is an add');
    assert.equal(await sample(metrics, 'workqueue_depth', labels), 0);
    assert.equal(await sample(metrics, 'workqueue_work_duration_seconds_count', labels), 3);
    // a: held 500 ms, then 250 ms; b and its retry: 250 ms each.
    assert.equal(await sample(metrics, 'workqueue_work_duration_seconds_sum', labels), 1.25);
    // a: taken at once; b: waited while a was held (500 ms) and worked (250 ms); its retry waited no clock time.
    assert.equal(await sample(metrics, 'workqueue_queue_duration_seconds_count', labels), 3);
    assert.equal(await sample(metrics, 'workqueue_queue_duration_seconds_sum', labels), 0.75);
  });
});
