import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathOf, splitTarget } from './request-target.js';

describe('request targets', () => {
  it('split into the path, as sent, and the query', () => {
    const t = splitTarget('/apis/x/namespaces/a/execsessions/b/attach?command=id&tty=false');
    assert.equal(t.path, '/apis/x/namespaces/a/execsessions/b/attach');
    assert.deepEqual(t.query.getAll('command'), ['id']);
    assert.equal(t.query.get('tty'), 'false');
  });

  const hostile: [string, string | undefined, string][] = [
    ['a target new URL() refuses', '//[', '//['],
    ['bad percent-encoding in the path', '/%ZZ/%', '/%ZZ/%'],
    ['bad percent-encoding in the query', '/a?x=%ZZ&%FF=1', '/a'],
    ['no target at all', undefined, ''],
    ['only a query', '?a=b', ''],
    ['a fragment', '/a#b?c', '/a'],
    ['an absolute form', 'https://[::1/x', 'https://[::1/x'],
    ['a huge path', `/${'a'.repeat(100_000)}`, `/${'a'.repeat(100_000)}`],
  ];
  for (const [name, url, path] of hostile) {
    it(`never throw: ${name}`, () => {
      assert.equal(pathOf(url), path);
      assert.equal(splitTarget(url).path, path);
    });
  }

  it('keep malformed percent-encoding in the query as it is', () => {
    const q = splitTarget('/a?x=%ZZ&%FF=1&command=%E2%9C%93').query;
    assert.equal(q.get('x'), '%ZZ');
    assert.equal(q.getAll('command')[0], '\u2713');
    assert.equal([...q.keys()].length, 3);
  });
});
