import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { auditIdOf, logContext, withLogContext } from './context.js';

describe('log context', () => {
  it('adds the fields in force to every line, nested and across awaits, and nothing outside', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    // The options main.ts uses.
    const log = pino({ timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) }, mixin: logContext }, sink);
    await withLogContext({ reconcileID: 'r-1', namespace: 'shop', name: 'dbg' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.info({ phase: 'Ready' }, 'phase changed');
      withLogContext({ auditID: 'a-1', name: undefined }, () => log.warn({}, 'inner'));
    });
    log.error({}, 'outside');
    assert.deepEqual(lines.map((l) => [l.level, l.reconcileID, l.namespace, l.name, l.auditID, l.msg]), [
      ['info', 'r-1', 'shop', 'dbg', undefined, 'phase changed'],
      ['warn', 'r-1', 'shop', 'dbg', 'a-1', 'inner'],
      ['error', undefined, undefined, undefined, undefined, 'outside'],
    ]);
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('takes an Audit-Id only when it looks like one', () => {
    assert.equal(auditIdOf('8b2c6f1e-3c1d-4a8e-9f0a-1b2c3d4e5f60'), '8b2c6f1e-3c1d-4a8e-9f0a-1b2c3d4e5f60');
    assert.equal(auditIdOf(['x1', 'x2']), 'x1');
    assert.equal(auditIdOf('a"b\n{"level":"fatal"}'), undefined);
    assert.equal(auditIdOf(undefined), undefined);
    assert.equal(auditIdOf('x'.repeat(65)), undefined);
  });
});
