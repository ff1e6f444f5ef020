import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_COMMAND_ARGS, MAX_COMMAND_BYTES, commandBytes, commandTooLarge } from './command-limits.js';

describe('command limits', () => {
  it('count UTF-8 bytes and a NUL per argument', () => {
    assert.equal(commandBytes([]), 0);
    assert.equal(commandBytes(['id']), 3);
    assert.equal(commandBytes(['sh', '-c', 'é']), 3 + 3 + 3);
  });
  it('accept a command up to the limits', () => {
    assert.equal(commandTooLarge(['sh', '-c', 'x'.repeat(MAX_COMMAND_BYTES - 7)], 'spec.command'), undefined);
    assert.equal(commandTooLarge(Array.from({ length: MAX_COMMAND_ARGS }, () => 'a'), 'spec.command'), undefined);
  });
  it('refuse one byte more, or one argument more, naming the field and the limit', () => {
    assert.match(commandTooLarge(['sh', '-c', 'x'.repeat(MAX_COMMAND_BYTES - 6)], 'spec.command') ?? '', /^spec\.command: 65537 bytes in all, the limit is 65536 \(64 KiB/);
    assert.match(commandTooLarge(Array.from({ length: MAX_COMMAND_ARGS + 1 }, () => 'a'), 'command') ?? '', /^command: 257 arguments, the limit is 256/);
    // The case: 160 kB in 20 arguments the CRD allows one by one.
    assert.match(commandTooLarge(Array.from({ length: 20 }, () => 'x'.repeat(8000)), 'spec.command') ?? '', /160020 bytes in all/);
  });
});
