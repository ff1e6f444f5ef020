import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcherHtml, opener } from './browser-open.js';

describe('opening a browser', () => {
  const yes = (): boolean => true;
  it('uses $BROWSER, else the platform\'s opener, and none on a Linux without a display', () => {
    assert.deepEqual(opener({ BROWSER: 'firefox' }, 'linux', yes), ['firefox']);
    assert.deepEqual(opener({}, 'darwin', yes), ['open']);
    assert.deepEqual(opener({ DISPLAY: ':0' }, 'linux', yes), ['xdg-open']);
    assert.equal(opener({ DISPLAY: ':0' }, 'linux', () => false), undefined);
    assert.equal(opener({}, 'linux', yes), undefined);
  });

  it('hands the opener a page that sends the browser on, the URL escaped', () => {
    const html = launcherHtml('http://127.0.0.1:1/t"><script>/x');
    assert.match(html, /content="0;url=http:\/\/127\.0\.0\.1:1\/t&#34;&#62;&#60;script&#62;\/x"/);
    assert.doesNotMatch(html, /<script/);
  });
});
