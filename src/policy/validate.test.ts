// validatePolicy as a table: a spec change from a valid base policy, and the
// problem it must report (or none).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { policyLimits, validatePolicy } from './validate.js';
import type { AnyExecPolicy, ClusterExecPolicySpec } from './types.js';
import { POLICY_API_VERSION } from './types.js';

const SPEC: ClusterExecPolicySpec = { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] } };
const cluster = (spec: Partial<ClusterExecPolicySpec>): AnyExecPolicy =>
  ({ apiVersion: POLICY_API_VERSION, kind: 'ClusterExecPolicy', metadata: { name: 'p' }, spec: { ...SPEC, ...spec } });
const sa = { kind: 'ServiceAccount', name: 'deployer' } as const;
const MIN = 60_000;

const CASES: Array<[string, AnyExecPolicy, RegExp | undefined]> = [
  ['the base policy is valid', cluster({}), undefined],
  ['a max shorter than the 15m default ttl is valid (the default follows it)', cluster({ ttl: { max: '5m' } }), undefined],
  ['no subjects', cluster({ subjects: [] }), /spec.subjects is empty/],
  ['a ServiceAccount subject without namespace', cluster({ subjects: [sa] }), /spec.subjects\[0\] is a ServiceAccount without a namespace/],
  ['a ServiceAccount approver without namespace', cluster({ approval: { required: 1, approvers: [sa] } }), /spec.approval.approvers\[0\] is a ServiceAccount/],
  ['a ServiceAccount trusted creator without namespace', cluster({ delegation: { trustedCreators: [sa] } }), /spec.delegation.trustedCreators\[0\] is a ServiceAccount/],
  ['an unknown subject kind', cluster({ subjects: [{ kind: 'Robot' as 'User', name: 'r2' }] }), /kind "Robot" is not one of User, Group, ServiceAccount/],
  ['a uid range with min > max', cluster({ users: { allowedUIDs: [{ min: 10, max: 1 }] } }), /spec.users.allowedUIDs\[0\] has min 10 greater than max 1/],
  ['a gid range with min > max', cluster({ users: { deniedGIDs: [{ min: 0, max: 0 }, { min: 5, max: 4 }] } }), /spec.users.deniedGIDs\[1\] has min 5/],
  ['a negative id', cluster({ users: { deniedUIDs: [{ min: -1, max: 4 }] } }), /spec.users.deniedUIDs\[0\] must have integer min and max/],
  ['a bad ttl.max', cluster({ ttl: { max: '1d' } }), /spec.ttl.max: invalid duration "1d"/],
  ['a bad ttl.default', cluster({ ttl: { default: 'soon' } }), /spec.ttl.default: invalid duration "soon"/],
  ['a bad approval.timeout', cluster({ approval: { timeout: '0s' } }), /spec.approval.timeout: invalid duration "0s": must be more than zero/],
  ['ttl.default longer than ttl.max', cluster({ ttl: { default: '2h', max: '1h' } }), /spec.ttl.default 2h is longer than spec.ttl.max 1h/],
  ['ttl.default longer than the default max', cluster({ ttl: { default: '90m' } }), /spec.ttl.default 90m is longer than spec.ttl.max 1h/],
  ['approvals required without approvers', cluster({ approval: { required: 1 } }), /spec.approval.required is 1 but spec.approval.approvers is empty/],
  ['a fractional approval count', cluster({ approval: { required: 1.5, approvers: [{ kind: 'User', name: 'bob' }] } }), /whole number/],
  ['an In requirement without values', cluster({ targets: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }), /podSelector.matchExpressions\[0\].values must not be empty for operator In/],
  ['an Exists requirement with values', cluster({ targets: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] } } }), /namespaceSelector.matchExpressions\[0\].values must be empty/],
  ['an unknown operator', cluster({ targets: { podSelector: { matchExpressions: [{ key: 'a', operator: 'Like' as 'In', values: ['x'] }] } } }), /operator "Like"/],
  ['an empty allowed command', cluster({ commands: [['id'], []] }), /spec.commands\[1\] is empty/],
  ['an ExecPolicy without namespace', { ...cluster({}), kind: 'ExecPolicy' } as AnyExecPolicy, /metadata.namespace is empty/],
];

describe('validatePolicy', () => {
  for (const [name, policy, problem] of CASES) {
    it(name, () => {
      const problems = validatePolicy(policy);
      if (problem === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => problem.test(p)), `${problem} not in ${JSON.stringify(problems)}`);
    });
  }
});

describe('policyLimits', () => {
  it('applies the defaults: max 1h, approval timeout 30m; no ttl.default (src/lifetime falls back)', () => {
    assert.deepEqual(policyLimits({}).limits, { maxTtlMs: 60 * MIN, approvalTimeoutMs: 30 * MIN });
    assert.equal(policyLimits({ ttl: { max: '10m' } }).limits?.defaultTtlMs, undefined);
  });

  it('keeps an explicit default', () => {
    assert.equal(policyLimits({ ttl: { default: '5m', max: '10m' } }).limits?.defaultTtlMs, 5 * MIN);
    assert.equal(policyLimits({ ttl: { default: '5m', max: '8h' } }).limits?.defaultTtlMs, 5 * MIN);
  });

  it('gives no limits when a duration is bad', () => {
    const { limits, problems } = policyLimits({ approval: { timeout: 'later' } });
    assert.equal(limits, undefined);
    assert.equal(problems.length, 1);
  });
});
