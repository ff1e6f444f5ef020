import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { protectedTarget } from './protected-target.js';

describe('protectedTarget', () => {
  it('refuses the operator\'s namespace, saying why and what to do', () => {
    const p = protectedTarget('execsession-system', 'execsession-system');
    assert.equal(p?.reason, 'OperatorNamespace');
    assert.match(p?.message ?? '', /^namespace execsession-system is the execsession operator's own: .*helper pods.*whatever RBAC and policies allow\. Debug the operator itself/);
  });
  it('lets every other namespace through to RBAC and policy', () => {
    for (const ns of ['default', 'execsession-system-2', 'kube-system', '']) assert.equal(protectedTarget(ns, 'execsession-system'), undefined, ns);
    assert.equal(protectedTarget('execsession-system', 'ops'), undefined);
  });
});
