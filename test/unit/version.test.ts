import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PRODUCT_VERSION } from '../../src/api/version.js';

describe('the product version', () => {
  it('is package.json\'s, the Helm chart\'s appVersion and the images\' tag', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(PRODUCT_VERSION, pkg.version);
    const chart = readFileSync(new URL('../../charts/execsession/Chart.yaml', import.meta.url), 'utf8');
    assert.match(chart, new RegExp(`^appVersion: "?${PRODUCT_VERSION.replace(/\./g, '\\.')}"?$`, 'm'));
  });
});
