import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V1MicroTime } from '@kubernetes/client-node';
import { withoutEmptyStrings } from './wire.js';

describe('withoutEmptyStrings', () => {
  const date = new Date('2024-05-01T10:00:00Z');
  const micro = new V1MicroTime(date.getTime());
  const cases: [string, unknown, unknown][] = [
    ['drops top-level empty strings', { a: '', b: 'x' }, { b: 'x' }],
    ['keeps zero, false, null and whitespace', { zero: 0, no: false, nil: null, space: ' ', nan: Number.NaN }, { zero: 0, no: false, nil: null, space: ' ', nan: Number.NaN }],
    ['nested objects', { status: { user: { name: '', uid: 0, home: '/' }, message: '' }, phase: 'Ready' }, { status: { user: { uid: 0, home: '/' } }, phase: 'Ready' }],
    ['object that becomes empty stays as an object', { user: { name: '' } }, { user: {} }],
    ['objects inside arrays', { conditions: [{ type: 'Ready', message: '' }, { type: 'Expired', reason: '' }] },
      { conditions: [{ type: 'Ready' }, { type: 'Expired' }] }],
    ['arrays of arrays', [[{ a: '' }], [{ b: 1 }]], [[{}], [{ b: 1 }]]],
    // Array elements are values, not fields: dropping one would shift the others.
    ['empty strings inside arrays are kept', { args: ['sh', '', '-c'] }, { args: ['sh', '', '-c'] }],
    ['empty arrays kept', { groups: [] }, { groups: [] }],
    ['top-level array', [{ a: '' }, 'x', ''], [{}, 'x', '']],
    ['primitives returned as they are', 'x', 'x'],
    ['empty string alone is returned as it is', '', ''],
    ['number', 0, 0],
    ['null', null, null],
    ['undefined', undefined, undefined],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.deepEqual(withoutEmptyStrings(input), want));
  }

  it('leaves Dates (and MicroTimes) untouched, the same instances', () => {
    const out = withoutEmptyStrings({ at: date, renew: micro, nested: { at: date, empty: '' }, list: [date] });
    assert.equal(out.at, date);
    assert.equal(out.renew, micro);
    assert.ok(out.renew instanceof V1MicroTime);
    assert.equal(out.nested.at, date);
    assert.equal(out.list[0], date);
    assert.equal('empty' in out.nested, false);
  });

  it('does not mutate its input', () => {
    const input = { a: '', b: { c: '', d: [{ e: '' }] } };
    const before = structuredClone(input);
    withoutEmptyStrings(input);
    assert.deepEqual(input, before);
  });
});
