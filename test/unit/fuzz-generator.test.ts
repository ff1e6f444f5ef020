// The fuzz generator (test/support/fuzz.ts) is reproducible from its seed and
// reaches every field it claims to: a generator that silently stopped making some
// field hostile would let the e2e fuzz suite pass without testing it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng, actionCase, attachQueryCase, fuzzSeed, hostileString, policyCase, sessionCase } from '../support/fuzz.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

function cases(seed: number): unknown[] {
  const r = new Rng(seed);
  return Array.from({ length: 200 }, (_, i) => [sessionCase(r, i, 'ns', 'target', NOW), policyCase(r, i, 'ns', NOW), actionCase(r, r.pick(['approve', 'deny', 'revoke', 'extend'] as const))]);
}

describe('fuzz generator', () => {
  it('gives the same cases for the same seed, and others for another', () => {
    assert.deepEqual(JSON.stringify(cases(42)), JSON.stringify(cases(42)));
    assert.notEqual(JSON.stringify(cases(42)), JSON.stringify(cases(43)));
  });

  it('makes every session and policy field hostile somewhere in 500 cases, and names it', () => {
    const r = new Rng(7);
    const session = new Set<string>();
    const policy = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const f of sessionCase(r, i, 'ns', 'target', NOW).fields) session.add(f);
      for (const f of policyCase(r, i, 'ns', NOW).fields) policy.add(f);
    }
    assert.deepEqual([...session].sort(), ['metadata.name', 'spec', 'spec.command', 'spec.container', 'spec.notAfter', 'spec.onBehalfOf', 'spec.podName', 'spec.reason', 'spec.requester', 'spec.ttl', 'spec.tty', 'spec.user']);
    assert.deepEqual([...policy].sort(), ['metadata.name', 'spec.approval', 'spec.commands', 'spec.delegation', 'spec.interactive', 'spec.subjects', 'spec.targets', 'spec.ttl', 'spec.users']);
  });

  it('writes control characters, unicode, shell syntax and huge strings', () => {
    const r = new Rng(1);
    const all = Array.from({ length: 2000 }, () => hostileString(r));
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    assert.ok(all.some((s) => /[\u0000-\u001f\u007f-\u009f]/.test(s)), 'C0 or C1');
    assert.ok(all.some((s) => s.includes('\u202e')), 'a bidi override');
    assert.ok(all.some((s) => s.includes('$(id)')), 'shell syntax');
    assert.ok(all.some((s) => s.length > 8192), 'longer than any field allows');
    assert.ok(all.includes(''), 'empty');
  });

  it('takes the seed from EXECSESSION_FUZZ_SEED, and refuses one that is not a 32-bit integer', () => {
    assert.equal(fuzzSeed({ EXECSESSION_FUZZ_SEED: '12345' }), 12345);
    assert.throws(() => fuzzSeed({ EXECSESSION_FUZZ_SEED: 'abc' }), /EXECSESSION_FUZZ_SEED must be an integer/);
    const fresh = fuzzSeed({});
    assert.ok(Number.isInteger(fresh) && fresh >= 0 && fresh <= 0xffffffff);
  });

  it('judges a query that repeats a single-valued attach parameter, from one part or two, as refused naming it', () => {
    const r = new Rng(4240276309);
    let repeated = 0;
    for (let i = 0; i < 2000; i++) {
      const c = attachQueryCase(r, 'main');
      for (const name of new Set(c.params.map(([n]) => n))) {
        if (name === 'command' || c.params.filter(([n]) => n === name).length < 2) continue;
        repeated++;
        assert.ok(c.refused.includes(name) || c.refused.includes('unknown'), `${c.label}: ${JSON.stringify(c.params)} refused ${JSON.stringify(c.refused)}`);
      }
    }
    assert.ok(repeated > 0, 'some queries repeat a parameter');
  });

  it('judges the shell without stdin: it must end, and a terminal asked for with it is refused (docs/api.md)', () => {
    // Seed 4070952722 sent stdin=0 alone; the shell then sat on a terminal until the judge's timeout.
    const r = new Rng(4070952722);
    let noStdin = 0;
    let ttyRefused = 0;
    for (let i = 0; i < 4000; i++) {
      const c = attachQueryCase(r, 'main');
      const one = (n: string): string[] => c.params.filter(([k]) => k === n).map(([, v]) => v);
      if (one('command').length > 0 || one('stdin').length !== 1 || !['0', 'false'].includes(one('stdin')[0] ?? '')) continue;
      noStdin++;
      assert.equal(c.interactive, false, `${c.label}: nobody types into it`);
      const tty = one('tty');
      if (tty.length === 1 && ['1', 'true', ''].includes(tty[0] ?? '-')) {
        ttyRefused++;
        assert.ok(c.refused.includes('tty'), `${c.label}: ${JSON.stringify(c.params)} refused ${JSON.stringify(c.refused)}`);
      }
    }
    assert.ok(noStdin > 0 && ttyRefused > 0, `cases seen: ${noStdin} without stdin, ${ttyRefused} of them with a terminal`);
  });
});
