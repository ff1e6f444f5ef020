import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUBRESOURCE_BASE, SUBRESOURCES, parseSubresourcePath, parseTerminalAssetPath, subresourcePath } from './subresources.js';

describe('subresource paths', () => {
  it('spells the attach path the way docs/api.md does', () => {
    assert.equal(subresourcePath('shop', 'dbg', 'attach'), '/apis/subresources.execsession.dev/v1alpha1/namespaces/shop/execsessions/dbg/attach');
  });

  it('parses back what it builds, for every subresource', () => {
    for (const { name } of SUBRESOURCES) {
      assert.deepEqual(parseSubresourcePath(subresourcePath('shop', 'dbg.1', name)), { namespace: 'shop', name: 'dbg.1', subresource: name });
    }
  });

  const refused: [string, string][] = [
    ['the group version itself', SUBRESOURCE_BASE],
    ['another resource', `${SUBRESOURCE_BASE}/namespaces/shop/pods/dbg/attach`],
    ['a name that is not a DNS subdomain', `${SUBRESOURCE_BASE}/namespaces/shop/execsessions/Dbg/attach`],
    ['a namespace that is not a DNS label', `${SUBRESOURCE_BASE}/namespaces/sh.op/execsessions/dbg/attach`],
    ['a trailing slash', `${SUBRESOURCE_BASE}/namespaces/shop/execsessions/dbg/attach/`],
    ['another group whose name differs only by a dot', '/apis/subresourcesXexecsession.dev/v1alpha1/namespaces/shop/execsessions/dbg/attach'],
  ];
  for (const [name, path] of refused) {
    it(`refuses ${name}`, () => assert.equal(parseSubresourcePath(path), undefined));
  }

  it('finds the terminal page\'s assets below its path, and nothing else there', () => {
    const page = subresourcePath('shop', 'dbg', 'terminal');
    assert.deepEqual(parseTerminalAssetPath(`${page}/terminal.js`), { namespace: 'shop', name: 'dbg', subresource: 'terminal', asset: 'terminal.js' });
    assert.equal(parseTerminalAssetPath(`${page}/other.js`), undefined);
    assert.equal(parseTerminalAssetPath(`${subresourcePath('shop', 'dbg', 'attach')}/terminal.js`), undefined);
    assert.equal(parseTerminalAssetPath(`${page}/../terminal.js`), undefined);
    assert.equal(parseTerminalAssetPath(page), undefined);
  });
});
