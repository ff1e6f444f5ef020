import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestHeaderConfig } from './request-header.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the cluster\'s requestheader settings', () => {
  it('reads the cluster\'s requestheader settings, with the standard headers as defaults', () => {
    const cfg = parseRequestHeaderConfig({ 'requestheader-client-ca-file': CA, 'requestheader-allowed-names': '["front-proxy-client"]' });
    assert.deepEqual(cfg, { clientCA: CA, allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'], groupHeaders: ['X-Remote-Group'], extraHeaderPrefixes: ['X-Remote-Extra-'] });
  });

  it('has no trust without a requestheader CA', () => {
    assert.equal(parseRequestHeaderConfig(undefined), undefined);
    assert.equal(parseRequestHeaderConfig({ 'client-ca-file': CA }), undefined);
  });
});
