// The policy decision as a table: each case is a request, the policies that
// exist, and the expected outcome written as "allow <policy>" or
// "deny <Reason> [<policy>]", plus optional details (pending rules, ttl,
// approval terms, message). Policy names: Kind/name or Kind/namespace/name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { evaluate } from './evaluate.js';
import type { Person } from '../api/types.js';
import type { ClusterExecPolicy, ClusterExecPolicySpec, Decision, ExecPolicy, ExecPolicySpec, PolicyEntry, PolicyRef, PolicyRequest, Subject, UserRules } from './types.js';
import { POLICY_API_VERSION } from './types.js';

const MIN = 60_000;
const alice: Person = { username: 'alice', groups: ['developers', 'system:authenticated'] };
const flux: Person = { username: 'system:serviceaccount:flux-system:kustomize-controller', groups: ['system:serviceaccounts:flux-system'] };
const fluxSA: Subject = { kind: 'ServiceAccount', namespace: 'flux-system', name: 'kustomize-controller' };

/** A request by alice for a shell in default/web (container app) as 1000:1000 for 15m. */
const BASE: PolicyRequest = {
  requester: alice,
  namespace: 'default',
  namespaceLabels: { env: 'dev', 'kubernetes.io/metadata.name': 'default' },
  pod: 'web',
  podLabels: { app: 'web', tier: 'frontend' },
  container: 'app',
  userSpec: '1000:1000',
  ttlMs: 15 * MIN,
  tty: true,
};
const BASE_SPEC: ExecPolicySpec = { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] } };

/** users with allowedNames ["*"] plus `extra`. */
const anyUser = (extra: UserRules = {}): UserRules => ({ allowedNames: ['*'], ...extra });

function cluster(name: string, spec: Partial<ClusterExecPolicySpec> = {}): PolicyEntry {
  return { kind: 'ClusterExecPolicy', policy: { apiVersion: POLICY_API_VERSION, kind: 'ClusterExecPolicy', metadata: { name }, spec: { ...BASE_SPEC, ...spec } } };
}

function ns(name: string, spec: Partial<ExecPolicySpec> = {}, namespace = 'default'): PolicyEntry {
  return { kind: 'ExecPolicy', policy: { apiVersion: POLICY_API_VERSION, kind: 'ExecPolicy', metadata: { name, namespace }, spec: { ...BASE_SPEC, ...spec } } };
}

/** What else to assert about a decision. */
interface Details {
  pending?: string[];
  ttlMs?: number;
  approvals?: number;
  subject?: string;
  message?: RegExp;
}

interface Case {
  name: string;
  req: Partial<PolicyRequest>;
  policies: PolicyEntry[];
  expect: string;
  details?: Details;
}

const c = (name: string, req: Partial<PolicyRequest>, policies: PolicyEntry[], expect: string, details?: Details): Case => ({ name, req, policies, expect, ...(details ? { details } : {}) });

const dev = cluster('dev');
const sel = (podSelector: ExecPolicySpec['targets']): PolicyEntry => cluster('dev', { targets: podSelector });
const expr = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', key: string, values?: string[]): PolicyEntry =>
  sel({ podSelector: { matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] } });
const headless: Partial<PolicyRequest> = { tty: false, command: ['id'] };

const CASES: Case[] = [
  // Who: subjects, and default deny.
  c('no policies at all', {}, [], 'deny NoPolicy', { message: /user "alice" \(groups: "developers", "system:authenticated"\) exec into container "app" of pod "web" in namespace "default"; ask an admin/ }),
  c('a Group subject matches the requester', {}, [dev], 'allow ClusterExecPolicy/dev', { pending: [], ttlMs: 15 * MIN, approvals: 0, subject: 'alice' }),
  c('a User subject matches by user name', {}, [cluster('u', { subjects: [{ kind: 'User', name: 'alice' }] })], 'allow ClusterExecPolicy/u'),
  c('a policy for other subjects does not apply', {}, [cluster('ops', { subjects: [{ kind: 'Group', name: 'ops' }, { kind: 'User', name: 'bob' }] })], 'deny NoPolicy'),
  c('a ServiceAccount subject matches system:serviceaccount:NS:NAME', { requester: flux }, [cluster('sa', { subjects: [fluxSA] })], 'allow ClusterExecPolicy/sa'),
  c('a ServiceAccount subject of another namespace does not', { requester: flux }, [cluster('sa', { subjects: [{ ...fluxSA, namespace: 'ci' }] })], 'deny NoPolicy'),
  // Where: namespaces, pods, containers.
  c('an ExecPolicy covers its own namespace', {}, [ns('a')], 'allow ExecPolicy/default/a'),
  c('an ExecPolicy does not cover other namespaces', {}, [ns('a', {}, 'prod')], 'deny NoPolicy'),
  c('a ClusterExecPolicy namespaces list excludes others', {}, [cluster('dev', { targets: { namespaces: ['prod', 'staging'] } })], 'deny NoPolicy'),
  c('namespaceSelector matches the namespace labels', {}, [cluster('dev', { targets: { namespaceSelector: { matchLabels: { env: 'dev' } } } })], 'allow ClusterExecPolicy/dev'),
  c('namespaceSelector that does not match', {}, [cluster('dev', { targets: { namespaceSelector: { matchLabels: { env: 'prod' } } } })], 'deny NoPolicy'),
  c('namespaces and namespaceSelector must both hold', {}, [cluster('dev', { targets: { namespaces: ['default'], namespaceSelector: { matchLabels: { env: 'prod' } } } })], 'deny NoPolicy'),
  c('podSelector matchLabels that do not match', {}, [sel({ podSelector: { matchLabels: { app: 'db' } } })], 'deny NoPolicy'),
  c('podSelector In with the label value', {}, [expr('In', 'tier', ['frontend', 'backend'])], 'allow ClusterExecPolicy/dev'),
  c('podSelector In without it', {}, [expr('In', 'tier', ['backend'])], 'deny NoPolicy'),
  c('podSelector NotIn with the label absent', {}, [expr('NotIn', 'env', ['prod'])], 'allow ClusterExecPolicy/dev'),
  c('podSelector NotIn with a listed value', {}, [expr('NotIn', 'app', ['web'])], 'deny NoPolicy'),
  c('podSelector Exists', {}, [expr('Exists', 'app')], 'allow ClusterExecPolicy/dev'),
  c('podSelector Exists on a missing label', {}, [expr('Exists', 'critical')], 'deny NoPolicy'),
  c('podSelector DoesNotExist', {}, [expr('DoesNotExist', 'critical')], 'allow ClusterExecPolicy/dev'),
  c('podSelector DoesNotExist on a present label', {}, [expr('DoesNotExist', 'tier')], 'deny NoPolicy'),
  c('containers lists the container', {}, [sel({ containers: ['app', 'sidecar'] })], 'allow ClusterExecPolicy/dev'),
  c('containers does not list it', {}, [sel({ containers: ['sidecar'] })], 'deny NoPolicy'),
  // Root, by name, uid, group and resolution.
  c('root by name', { userSpec: 'root' }, [dev], 'deny RootUserDenied ClusterExecPolicy/dev', { message: /ClusterExecPolicy "dev" does not allow root.*allowRoot/ }),
  c('root by uid 0', { userSpec: '0:1000' }, [dev], 'deny RootUserDenied ClusterExecPolicy/dev'),
  c('root when a name resolves to uid 0', { userSpec: 'toor', resolved: { uid: 0, gid: 1000, groups: [], name: 'toor' } }, [dev], 'deny RootUserDenied ClusterExecPolicy/dev'),
  c('root allowed with allowRoot', { userSpec: '0:1000' }, [cluster('dev', { users: anyUser({ allowRoot: true }) })], 'allow ClusterExecPolicy/dev', { pending: [] }),
  c('"alice:0" is the root group', { userSpec: 'alice:0' }, [dev], 'deny RootGroupDenied ClusterExecPolicy/dev', { message: /"alice:0" names the root group "0"/ }),
  c('"alice:root" is the root group', { userSpec: 'alice:root' }, [dev], 'deny RootGroupDenied ClusterExecPolicy/dev'),
  c('resolved supplementary gid 0', { userSpec: 'alice', resolved: { uid: 1000, gid: 1000, groups: [1000, 0], name: 'alice' } }, [dev], 'deny RootGroupDenied ClusterExecPolicy/dev', { message: /"alice" would hold gid 0 \(groups: 1000, 0\)/ }),
  c('root group allowed with allowRootGroup', { userSpec: '1000:0' }, [cluster('dev', { users: anyUser({ allowRootGroup: true }) })], 'allow ClusterExecPolicy/dev'),
  c('a name could still be uid 0 or hold gid 0: pending', { userSpec: 'alice' }, [dev], 'allow ClusterExecPolicy/dev', { pending: ['users.allowRoot', 'users.allowRootGroup'] }),
  c('resolved alice settles it', { userSpec: 'alice', resolved: { uid: 1000, gid: 1000, groups: [1000], name: 'alice' } }, [dev], 'allow ClusterExecPolicy/dev', { pending: [] }),
  // Which users.
  c('a name not in allowedNames', { userSpec: 'bob:1000' }, [cluster('dev', { users: { allowedNames: ['alice', 'postgres'] } })], 'deny UserNotAllowed ClusterExecPolicy/dev', { message: /user "bob".*allowedNames \["alice", "postgres"\]/ }),
  c('a name in allowedNames', { userSpec: 'postgres:999' }, [cluster('dev', { users: { allowedNames: ['postgres'] } })], 'allow ClusterExecPolicy/dev', { pending: ['users.allowRoot'] }),
  c('a uid in allowedUIDs', {}, [cluster('dev', { users: { allowedUIDs: [{ min: 1000, max: 1999 }] } })], 'allow ClusterExecPolicy/dev', { pending: [] }),
  c('a uid outside allowedUIDs', { userSpec: '500:500' }, [cluster('dev', { users: { allowedUIDs: [{ min: 1000, max: 1999 }] } })], 'deny UserNotAllowed ClusterExecPolicy/dev'),
  c('a name with only allowedUIDs waits for its uid', { userSpec: 'alice:1000' }, [cluster('dev', { users: { allowedUIDs: [{ min: 1000, max: 1999 }] } })], 'allow ClusterExecPolicy/dev', { pending: ['users.allowRoot', 'users.allowedUIDs'] }),
  c('...and is allowed once its uid resolves in range', { userSpec: 'alice:1000', resolved: { uid: 1500, gid: 1000, groups: [], name: 'alice' } }, [cluster('dev', { users: { allowedUIDs: [{ min: 1000, max: 1999 }] } })], 'allow ClusterExecPolicy/dev', { pending: [] }),
  c('...and denied once it resolves out of range', { userSpec: 'alice:1000', resolved: { uid: 50, gid: 1000, groups: [], name: 'alice' } }, [cluster('dev', { users: { allowedUIDs: [{ min: 1000, max: 1999 }] } })], 'deny UserNotAllowed ClusterExecPolicy/dev'),
  c('no allowedNames or allowedUIDs allows no user', {}, [cluster('dev', { users: {} })], 'deny UserNotAllowed ClusterExecPolicy/dev', { message: /allows no user/ }),
  c('deniedNames wins over "*"', { userSpec: 'admin:1000' }, [cluster('dev', { users: anyUser({ deniedNames: ['admin'] }) })], 'deny UserDenied ClusterExecPolicy/dev'),
  c('deniedUIDs wins over allowedUIDs', { userSpec: '999:999' }, [cluster('dev', { users: { allowedUIDs: [{ min: 0, max: 5000 }], deniedUIDs: [{ min: 1, max: 999 }] } })], 'deny UserDenied ClusterExecPolicy/dev', { message: /users.deniedUIDs \(1-999\)/ }),
  c('deniedNames and an unresolved uid: pending', {}, [cluster('dev', { users: anyUser({ deniedNames: ['admin'] }) })], 'allow ClusterExecPolicy/dev', { pending: ['users.deniedNames'] }),
  c('a uid that resolves to a denied name', { resolved: { uid: 1000, gid: 1000, groups: [], name: 'admin' } }, [cluster('dev', { users: anyUser({ deniedNames: ['admin'] }) })], 'deny UserDenied ClusterExecPolicy/dev'),
  // Which groups.
  c('a gid in allowedGIDs', {}, [cluster('dev', { users: anyUser({ allowedGIDs: [{ min: 1000, max: 1999 }] }) })], 'allow ClusterExecPolicy/dev'),
  c('a gid outside allowedGIDs', { userSpec: '1000:50' }, [cluster('dev', { users: anyUser({ allowedGIDs: [{ min: 1000, max: 1999 }] }) })], 'deny GroupNotAllowed ClusterExecPolicy/dev'),
  c('a resolved supplementary gid outside allowedGIDs', { resolved: { uid: 1000, gid: 1000, groups: [27] } }, [cluster('dev', { users: anyUser({ allowedGIDs: [{ min: 1000, max: 1999 }] }) })], 'deny GroupNotAllowed ClusterExecPolicy/dev'),
  c('a resolved gid in deniedGIDs', { userSpec: 'alice', resolved: { uid: 1000, gid: 1000, groups: [27], name: 'alice' } }, [cluster('dev', { users: anyUser({ deniedGIDs: [{ min: 27, max: 27 }] }) })], 'deny GroupDenied ClusterExecPolicy/dev', { message: /gid 27/ }),
  c('deniedGIDs and unknown groups: pending', { userSpec: 'alice:ops' }, [cluster('dev', { users: anyUser({ deniedGIDs: [{ min: 27, max: 27 }], allowRoot: true, allowRootGroup: true }) })], 'allow ClusterExecPolicy/dev', { pending: ['users.deniedGIDs'] }),
  // How long.
  c('a ttl over the default max of 1h', { ttlMs: 120 * MIN }, [dev], 'deny TtlTooLong ClusterExecPolicy/dev', { message: /at most 1h \(ttl.max\).*asks for 2h; set spec.ttl to 1h or less/ }),
  c('a ttl exactly the max', { ttlMs: 60 * MIN }, [dev], 'allow ClusterExecPolicy/dev', { ttlMs: 60 * MIN }),
  c('no ttl takes the default 15m', { ttlMs: undefined }, [dev], 'allow ClusterExecPolicy/dev', { ttlMs: 15 * MIN }),
  c('no ttl and max shorter than 15m takes the max', { ttlMs: undefined }, [cluster('dev', { ttl: { max: '10m' } })], 'allow ClusterExecPolicy/dev', { ttlMs: 10 * MIN }),
  c('no ttl takes ttl.default', { ttlMs: undefined }, [cluster('dev', { ttl: { default: '5m', max: '8h' } })], 'allow ClusterExecPolicy/dev', { ttlMs: 5 * MIN }),
  c('issue 12: no ttl under {default: 5m, max: 10m} takes 5m', { ttlMs: undefined }, [cluster('dev', { ttl: { default: '5m', max: '10m' } })], 'allow ClusterExecPolicy/dev', { ttlMs: 5 * MIN }),
  c('issue 12: 20m under {default: 5m, max: 10m} is refused naming 10m', { ttlMs: 20 * MIN }, [cluster('dev', { ttl: { default: '5m', max: '10m' } })], 'deny TtlTooLong ClusterExecPolicy/dev',
    { message: /at most 10m \(ttl\.max\), and this one asks for 20m; set spec\.ttl to 10m or less/ }),
  // Interactive and commands.
  c('a terminal where interactive is false', {}, [cluster('dev', { interactive: false })], 'deny InteractiveNotAllowed ClusterExecPolicy/dev'),
  c('a command where interactive is false', headless, [cluster('dev', { interactive: false })], 'allow ClusterExecPolicy/dev'),
  c('an allowed command, exactly', headless, [cluster('dev', { commands: [['ps', 'aux'], ['id']] })], 'allow ClusterExecPolicy/dev'),
  c('a command with extra arguments', { tty: false, command: ['id', '-u'] }, [cluster('dev', { commands: [['id']] })], 'deny CommandNotAllowed ClusterExecPolicy/dev', { message: /\["id"\]; got \["id","-u"\]/ }),
  c('no command (login shell) without a terminal', { tty: false }, [cluster('dev', { commands: [['id']] })], 'deny CommandNotAllowed ClusterExecPolicy/dev', { message: /login shell/ }),
  c('commands do not restrict terminal sessions', {}, [cluster('dev', { commands: [['id']] })], 'allow ClusterExecPolicy/dev'),
  // Delegation.
  c('a trusted creator acts for alice', { requester: flux, onBehalfOf: alice }, [cluster('dev', { delegation: { trustedCreators: [fluxSA] } })], 'allow ClusterExecPolicy/dev', { subject: 'alice' }),
  c('a creator trusted through its group', { requester: flux, onBehalfOf: alice }, [cluster('dev', { delegation: { trustedCreators: [{ kind: 'Group', name: 'system:serviceaccounts:flux-system' }] } })], 'allow ClusterExecPolicy/dev'),
  c('an untrusted creator', { requester: flux, onBehalfOf: alice }, [dev], 'deny CreatorNotTrusted ClusterExecPolicy/dev', { message: /kustomize-controller" is not trusted to create sessions on behalf of user "alice"/ }),
  c('a trusted creator for a subject no policy covers', { requester: flux, onBehalfOf: { username: 'bob', groups: [] } }, [cluster('dev', { delegation: { trustedCreators: [fluxSA] } })], 'deny NoPolicy', { message: /user "bob" \(created on their behalf by user "system:serviceaccount:flux-system:kustomize-controller"\)/ }),
  c('the subject, not the creator, must be covered', { requester: alice, onBehalfOf: { username: 'bob', groups: [] } }, [cluster('dev', { delegation: { trustedCreators: [{ kind: 'User', name: 'alice' }] } })], 'deny NoPolicy'),
  c('a policy not trusting the creator does not apply', { requester: flux, onBehalfOf: alice, ttlMs: 120 * MIN },
    [cluster('a-open', { ttl: { max: '8h' } }), cluster('b-trusted', { delegation: { trustedCreators: [fluxSA] } })], 'deny TtlTooLong ClusterExecPolicy/b-trusted'),
  // Several policies.
  c('fewest approvals wins', {}, [ns('strict', { approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }] } }), cluster('open')], 'allow ClusterExecPolicy/open', { approvals: 0 }),
  c('ExecPolicy before ClusterExecPolicy at equal approvals', {}, [cluster('a'), ns('z')], 'allow ExecPolicy/default/z'),
  c('then by name, whatever the input order', {}, [cluster('b'), cluster('a'), cluster('c')], 'allow ClusterExecPolicy/a'),
  c('a later policy allows what the first denies', { ttlMs: 120 * MIN }, [cluster('a'), cluster('b', { ttl: { max: '4h' } })], 'allow ClusterExecPolicy/b'),
  c('all deny: the first one in order explains', { ttlMs: 120 * MIN, userSpec: 'bob:1000' }, [cluster('a', { users: { allowedNames: ['alice'] } }), ns('b')], 'deny TtlTooLong ExecPolicy/default/b', { message: /ExecPolicy "default\/b" allows sessions of at most 1h/ }),
  c('approval terms come from the chosen policy', {}, [ns('strict', { approval: { required: 2, approvers: [{ kind: 'Group', name: 'approvers' }] } })], 'allow ExecPolicy/default/strict', { approvals: 2 }),
  // Invalid input.
  c('an invalid policy is ignored', {}, [cluster('bad', { users: anyUser({ allowedUIDs: [{ min: 2000, max: 1000 }] }) })], 'deny NoPolicy', { message: /ClusterExecPolicy "bad" would cover it but is invalid: spec.users.allowedUIDs\[0\] has min 2000 greater than max 1000/ }),
  c('an invalid policy is skipped for a valid one', {}, [ns('a-bad', { ttl: { default: '2h' } }), cluster('z')], 'allow ClusterExecPolicy/z'),
  c('a malformed spec.user', { userSpec: 'a:b:c' }, [dev], 'deny InvalidUserSpec', { message: /invalid user spec "a:b:c"/ }),
];

const refText = (ref: PolicyRef | undefined): string => (ref ? ` ${[ref.kind, ref.namespace, ref.name].filter((p) => p !== undefined).join('/')}` : '');
const summary = (d: Decision): string => (d.allowed ? `allow${refText(d.policy)}` : `deny ${d.reason}${refText(d.policy)}`);

/** Checks the optional details of a decision. */
function checkDetails(d: Decision, details: Details): void {
  if (details.message) assert.match(d.allowed ? '' : d.message, details.message);
  if (!d.allowed) return;
  if (details.pending) {
    assert.deepEqual(d.pendingRules, details.pending);
    assert.equal(d.pendingResolution, details.pending.length > 0);
  }
  if (details.ttlMs !== undefined) assert.equal(d.ttlMs, details.ttlMs);
  if (details.approvals !== undefined) assert.equal(d.approvalsRequired, details.approvals);
  if (details.subject !== undefined) assert.equal(d.subject.username, details.subject);
}

describe('evaluate', () => {
  for (const { name, req, policies, expect, details } of CASES) {
    it(name, () => {
      const decision = evaluate({ ...BASE, ...req }, policies);
      assert.equal(summary(decision), expect, JSON.stringify(decision));
      if (details) checkDetails(decision, details);
    });
  }

  it('has a table of at least 40 cases with unique names', () => {
    assert.ok(CASES.length >= 40);
    assert.equal(new Set(CASES.map((x) => x.name)).size, CASES.length);
  });

  it('returns the full approval terms, with defaults', () => {
    const approvers: Subject[] = [{ kind: 'Group', name: 'approvers' }];
    const decision = evaluate(BASE, [ns('strict', { approval: { required: 1, approvers } })]);
    assert.deepEqual(decision, {
      allowed: true,
      policy: { kind: 'ExecPolicy', name: 'strict', namespace: 'default' },
      ttlMs: 15 * MIN,
      maxTtlMs: 60 * MIN,
      approvalsRequired: 1,
      approvers,
      blockSelfApproval: true,
      approvalTimeoutMs: 30 * MIN,
      pendingResolution: false,
      pendingRules: [],
      subject: alice,
      // Approval without a recording setting: Required (src/recording/mode.ts).
      recording: { mode: 'Required' },
    });
  });

  it('carries the policy\'s recording setting, input only when asked', () => {
    const rec = (spec: object) => {
      const d = evaluate(BASE, [ns('p', spec)]);
      return d.allowed ? d.recording : undefined;
    };
    assert.deepEqual(rec({}), { mode: 'BestEffort' });
    assert.deepEqual(rec({ recording: 'Required', recordInput: true }), { mode: 'Required', input: true });
    assert.deepEqual(rec({ recording: 'Off', recordInput: true }), { mode: 'Off' });
    assert.deepEqual(rec({ recording: 'Off', approval: { required: 1, approvers: [{ kind: 'User', name: 'bob' }] } }), { mode: 'Off' });
  });

  it('does not depend on the order of the policy list', () => {
    const policies = [cluster('b'), ns('x', { approval: { required: 1, approvers: [{ kind: 'User', name: 'carol' }] } }), cluster('a'), ns('y')];
    const first = evaluate(BASE, policies);
    assert.deepEqual(evaluate(BASE, [...policies].reverse()), first);
    assert.equal(summary(first), 'allow ExecPolicy/default/y');
  });
});

/** A sample policy from config/samples. */
const sample = <T>(file: string): T => parse(readFileSync(new URL(`../../config/samples/${file}`, import.meta.url), 'utf8')) as T;

describe('the examples of docs/policy.md', () => {
  const developers: PolicyEntry = { kind: 'ClusterExecPolicy', policy: sample<ClusterExecPolicy>('clusterexecpolicy-developers.yaml') };
  const approval: PolicyEntry = { kind: 'ExecPolicy', policy: sample<ExecPolicy>('execpolicy-approval.yaml') };
  const samples = [developers, approval];
  const postgres: Partial<PolicyRequest> = { namespace: 'production', namespaceLabels: {}, pod: 'db-0', podLabels: { app: 'postgres' }, container: 'postgres', userSpec: 'postgres' };

  it('(a) lets developers be a non-root user in default for up to 1h, pending the container check', () => {
    const decision = evaluate({ ...BASE, userSpec: 'app', ttlMs: 30 * MIN }, samples);
    assert.equal(summary(decision), 'allow ClusterExecPolicy/developers');
    assert.ok(decision.allowed && decision.pendingResolution && decision.approvalsRequired === 0);
    assert.equal(summary(evaluate({ ...BASE, userSpec: 'root' }, samples)), 'deny RootUserDenied ClusterExecPolicy/developers');
    assert.equal(summary(evaluate({ ...BASE, ttlMs: 120 * MIN }, samples)), 'deny TtlTooLong ClusterExecPolicy/developers');
  });

  it('(b) needs one approval from group approvers for postgres in production', () => {
    const decision = evaluate({ ...BASE, ...postgres }, samples);
    assert.equal(summary(decision), 'allow ExecPolicy/production/postgres-with-approval');
    assert.ok(decision.allowed);
    assert.equal(decision.approvalsRequired, 1);
    assert.deepEqual(decision.approvers, [{ kind: 'Group', name: 'approvers' }]);
    assert.equal(decision.blockSelfApproval, true);
    assert.equal(summary(evaluate({ ...BASE, ...postgres, podLabels: { app: 'web' } }, samples)), 'deny NoPolicy');
  });
});
