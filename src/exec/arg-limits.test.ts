import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ARG_STRLEN, argvTooLong, isArgListTooLong, stringsBytes } from './arg-limits.js';

describe('argvTooLong', () => {
  it('lets ordinary argv through', () => {
    assert.equal(argvTooLong(['/bin/sh', '-c', 'x'.repeat(10_000), 'a']), undefined);
    assert.equal(argvTooLong(['x'.repeat(MAX_ARG_STRLEN - 1)]), undefined);
  });
  it('finds one argument above 128 KiB, as a 140 kB environment in one process spec', () => {
    const r = argvTooLong(['/bin/sh', `{"env":["BIG=${'x'.repeat(140_000)}"]}`]);
    assert.equal(r?.limit, 'MAX_ARG_STRLEN');
    assert.ok((r?.largest ?? 0) > 140_000);
  });
  it('finds arguments too large together', () => {
    const r = argvTooLong(Array.from({ length: 40 }, () => 'x'.repeat(60_000)));
    assert.equal(r?.limit, 'total');
  });
});

describe('isArgListTooLong', () => {
  it('recognises runc\'s, the kubelet\'s and the shell\'s wording', () => {
    assert.equal(isArgListTooLong(new Error('exec failed: OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": argument list too long: unknown')), true);
    assert.equal(isArgListTooLong('sh: can\'t execute: E2BIG'), true);
    assert.equal(isArgListTooLong(new Error('helper start failed (exit 2): no such file')), false);
  });
});

describe('stringsBytes', () => {
  it('counts UTF-8 bytes and NULs', () => assert.equal(stringsBytes(['A=1', 'É=2']), 4 + 5));
});
