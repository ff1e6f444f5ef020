import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, pageFacts, terminalPage } from './page.js';

describe('the terminal page', () => {
  it('escapes what it shows', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&`), '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;');
    const html = terminalPage({ namespace: 'shop', name: 'dbg', pod: 'db', container: 'main', user: '<img src=x onerror=alert(1)>', expiresAt: '' });
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
    assert.match(html, /id="countdown"[^>]*>never</);
  });

  it('names the user as status resolved it, else as asked', () => {
    const base = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'dbg', namespace: 'shop' }, spec: { podName: 'db', user: '1001' } } as const;
    assert.equal(pageFacts({ ...base, spec: { ...base.spec }, metadata: { ...base.metadata } }).user, '1001');
    const user = { uid: 1001, gid: 1001, groups: [1001], home: '/', root: false, rootGroup: false };
    assert.equal(pageFacts({ ...base, spec: { ...base.spec }, metadata: { ...base.metadata }, status: { user } }).user, 'uid 1001');
    assert.equal(pageFacts({ ...base, spec: { ...base.spec }, metadata: { ...base.metadata }, status: { user: { ...user, name: 'svc' } } }).user, 'svc (uid 1001)');
  });
});
