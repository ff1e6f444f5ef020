import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeSlots } from './node-slots.js';

describe('NodeSlots', () => {
  it('gives at most its limit per node, nodes counted apart', () => {
    const slots = new NodeSlots(2);
    assert.ok(slots.take('a', 'ns/1'));
    assert.ok(slots.take('a', 'ns/2'));
    assert.equal(slots.take('a', 'ns/3'), undefined);
    assert.ok(slots.take('b', 'ns/3'), 'another node has its own slots');
    assert.equal(slots.inUse('a'), 2);
    assert.equal(slots.waiters('a'), 1);
  });

  it('wakes the first waiter when a slot frees, once per release, however often a release is called', () => {
    const woken: string[] = [];
    const slots = new NodeSlots(1, (k) => woken.push(k));
    const release = slots.take('a', 'ns/1');
    assert.equal(slots.take('a', 'ns/2'), undefined);
    assert.equal(slots.take('a', 'ns/3'), undefined);
    assert.equal(slots.take('a', 'ns/2'), undefined, 'a waiter asking again keeps its place');
    assert.equal(slots.waiters('a'), 2);
    release?.();
    release?.();
    assert.deepEqual(woken, ['ns/2']);
    assert.equal(slots.inUse('a'), 0);
    const second = slots.take('a', 'ns/2');
    assert.ok(second);
    second();
    assert.deepEqual(woken, ['ns/2', 'ns/3']);
    assert.equal(slots.waiters('a'), 0);
  });

  it('takes a waiter off the list when it gets a slot before it is woken', () => {
    const woken: string[] = [];
    const slots = new NodeSlots(1, (k) => woken.push(k));
    const first = slots.take('a', 'ns/1');
    assert.equal(slots.take('a', 'ns/2'), undefined);
    const other = new NodeSlots(1);
    assert.ok(other.take('a', 'ns/2'));
    first?.();
    const again = slots.take('a', 'ns/2');
    assert.ok(again);
    again();
    assert.deepEqual(woken, ['ns/2'], 'nobody is left to wake');
  });
});
