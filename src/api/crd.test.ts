// Checks the CRD manifest offline: structural-schema rules the API server
// would reject at apply time, the documentation `kubectl explain` shows, and
// agreement with the TypeScript mirror in types.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Reason } from './conditions.js';
import { DURATION_PATTERN } from './duration.js';
import { KNOWN_KEYS, loadCrd } from '../../test/support/crd-schema.js';
import { MAX_NAME_LENGTH, UserSpecError, parseUserSpec } from './user-spec.js';
import { API_VERSION, APPROVAL_DECISIONS, BACKENDS, GROUP, KIND, PHASES, PLURAL, RECORDING_MODES, type ApprovalRecord, type ExecSessionStatus, type OnBehalfOf, type SessionRecording } from './types.js';

/** `k` names every key of T, no more (satisfies) and no fewer (the conditional type); checked by tsc. */
type Exact<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]> extends never ? K : { missing: Exclude<keyof T, K[number]> };
const keys = <T>() => <const K extends readonly (keyof T)[]>(k: K & Exact<T, K>): string[] => [...k as readonly string[]].sort();

const { crd, version, root, nodes, at } = loadCrd('execsession.dev_execsessions.yaml', 'execsession');

describe('CRD identity', () => {
  it('matches the constants in types.ts', () => {
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.metadata.name, `${PLURAL}.${GROUP}`);
    assert.equal(crd.spec.group, GROUP);
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.names.kind, KIND);
    assert.equal(crd.spec.names.plural, PLURAL);
    assert.equal(API_VERSION, `${crd.spec.group}/${version.name}`);
    assert.deepEqual(crd.spec.names.shortNames, ['execs']);
    // No category: one named like the singular makes `kubectl get execsession` expand to every kind in it.
    assert.equal(crd.spec.names.categories, undefined);
  });

  it('serves and stores v1alpha1 with a status subresource', () => {
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
    assert.deepEqual(version.subresources?.status, {});
  });
});

describe('CRD schema', () => {
  it('(a) documents every property and array item at every depth', () => {
    const missing = nodes
      .filter((n) => n.path !== 'execsession' && !(n.schema.description ?? '').trim())
      .map((n) => n.path);
    assert.deepEqual(missing, []);
    assert.ok(nodes.filter((n) => n.isProperty).length > 40, 'walk found too few properties');
  });

  it('(b) gives every node a type', () => {
    const untyped = nodes
      .filter((n) => !n.schema.type && !n.schema['x-kubernetes-int-or-string'] && !n.schema['x-kubernetes-preserve-unknown-fields'])
      .map((n) => n.path);
    assert.deepEqual(untyped, []);
  });

  it('keeps root metadata to a bare type, as the API server requires', () => {
    assert.deepEqual(root.properties?.metadata, { type: 'object' });
  });

  it('is structural: known keywords only, no properties mixed with additionalProperties', () => {
    for (const { path, schema } of nodes) {
      const unknown = Object.keys(schema).filter((k) => !KNOWN_KEYS.has(k));
      assert.deepEqual(unknown, [], `${path} has unknown keywords`);
      assert.ok(!(schema.properties && schema.additionalProperties !== undefined), `${path} mixes properties and additionalProperties`);
      assert.ok(schema.type !== 'array' || schema.items, `${path} is an array without items`);
    }
  });

  it('requires only declared properties, and list-map keys are required', () => {
    for (const { path, schema } of nodes) {
      for (const name of schema.required ?? []) {
        assert.ok(schema.properties?.[name], `${path} requires undeclared ${name}`);
      }
      const keys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
      for (const key of keys ?? []) {
        assert.ok(schema.items?.required?.includes(key), `${path} list-map key ${key} must be required`);
      }
    }
  });

  it('has patterns that compile and defaults that satisfy them', () => {
    for (const { path, schema } of nodes.filter((n) => n.schema.pattern)) {
      const pattern = new RegExp(schema.pattern ?? '');
      if (typeof schema.default === 'string') assert.match(schema.default, pattern, `${path} default`);
    }
  });

  it('requires podName and user in spec, and spec itself', () => {
    assert.deepEqual(root.required, ['spec']);
    assert.deepEqual(at('spec').required, ['podName', 'user']);
  });

  it('validates podName as a DNS subdomain and user in docker format', () => {
    const podName = new RegExp(at('spec.podName').pattern ?? '');
    for (const ok of ['web', 'web-7d9f8c6b5-x2x4k', 'a.b-c.d']) assert.match(ok, podName);
    for (const bad of ['Web', '-web', 'web-', 'a..b', 'a_b']) assert.doesNotMatch(bad, podName);
    const user = new RegExp(at('spec.user').pattern ?? '');
    for (const ok of ['postgres', '1000', '1000:1000', 'www-data:adm', 'svc$', 'svc$:adm', '_apt']) assert.match(ok, user);
    for (const bad of ['', ':1000', '1000:', 'a:b:c', 'a b']) assert.doesNotMatch(bad, user);
    // Shell metacharacters and paths: the same names parseUserSpec refuses (the webhook says why, in words).
    for (const bad of ['alice;id', '$(id)', '`id`', '../etc/passwd', '-alice', 'alice:-ops', 'al$ice', 'alice:ops|x']) {
      assert.doesNotMatch(bad, user, bad);
      assert.throws(() => parseUserSpec(bad), UserSpecError, bad);
    }
    assert.equal(at('spec.user').maxLength, 2 * MAX_NAME_LENGTH + 1);
  });

  it('defaults tty to true, and leaves ttl unset for the policy and the operator to decide (src/lifetime)', () => {
    assert.equal(at('spec.tty').default, true);
    // A CRD default would reach admission as if the user had asked for it, and hide the policy's ttl.default.
    assert.equal(at('spec.ttl').default, undefined);
    assert.equal(at('spec.ttl').pattern, DURATION_PATTERN.source);
  });
});

describe('CRD printer columns', () => {
  it('(c) shows pod, container, user, requester, phase, expiry and age; with -o wide the subject, notAfter, node, backend, uid, gid and reason', () => {
    const columns = (version.additionalPrinterColumns ?? []).map(({ name, type, jsonPath }) => ({ name, type, jsonPath }));
    assert.deepEqual(columns, [
      { name: 'Pod', type: 'string', jsonPath: '.spec.podName' },
      { name: 'Container', type: 'string', jsonPath: '.status.container' },
      { name: 'User', type: 'string', jsonPath: '.spec.user' },
      { name: 'Requester', type: 'string', jsonPath: '.spec.requester.username' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      // A string, not a date: kubectl shows future dates as <invalid>.
      { name: 'Expires', type: 'string', jsonPath: '.status.expiresAt' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'For', type: 'string', jsonPath: '.spec.onBehalfOf.username' },
      { name: 'Not-After', type: 'string', jsonPath: '.spec.notAfter' },
      { name: 'Node', type: 'string', jsonPath: '.status.node' },
      { name: 'Backend', type: 'string', jsonPath: '.status.backend' },
      { name: 'UID', type: 'integer', jsonPath: '.status.user.uid' },
      { name: 'GID', type: 'integer', jsonPath: '.status.user.gid' },
      { name: 'Reason', type: 'string', jsonPath: '.spec.reason' },
    ]);
    // -o wide only: what follows Age.
    const wide = ((version.additionalPrinterColumns ?? []) as { name: string; priority?: number }[]).filter((c) => c.priority === 1).map((c) => c.name);
    assert.deepEqual(wide, ['For', 'Not-After', 'Node', 'Backend', 'UID', 'GID', 'Reason']);
  });
});

describe('CRD and types.ts agree', () => {
  it('(d) on the phase enum', () => {
    assert.deepEqual(at('status.phase').enum, [...PHASES]);
  });

  it('on the backend enum', () => {
    assert.deepEqual(at('status.backend').enum, [...BACKENDS]);
  });

  it('on spec.onBehalfOf: the same fields, username required and not empty', () => {
    assert.deepEqual(Object.keys(at('spec.onBehalfOf').properties ?? {}).sort(), keys<OnBehalfOf>()(['username', 'groups']));
    assert.deepEqual(at('spec.onBehalfOf').required, ['username']);
    assert.equal(at('spec.onBehalfOf.username').minLength, 1);
  });

  it('on status: the same fields as ExecSessionStatus, seal included', () => {
    assert.deepEqual(Object.keys(at('status').properties ?? {}).sort(), keys<ExecSessionStatus>()([
      'phase', 'conditions', 'observedGeneration', 'node', 'container', 'containerID', 'runtime', 'backend', 'user', 'helperPod',
      'attach', 'revocation', 'startedAt', 'expiresAt', 'extendableUntil', 'recording', 'endedAt', 'result', 'approvals', 'message', 'seal',
    ]));
  });

  it('on status.recording: the same fields and the modes', () => {
    assert.deepEqual(Object.keys(at('status.recording').properties ?? {}).sort(), [...keys<SessionRecording>()(['input', 'mode'])]);
    assert.deepEqual(at('status.recording.mode').enum, [...RECORDING_MODES]);
  });

  it('on status.approvals: the same fields, the decision enum, the required fields', () => {
    assert.deepEqual(Object.keys(at('status.approvals[]').properties ?? {}).sort(), keys<ApprovalRecord>()(['decision', 'username', 'groups', 'at', 'reason', 'signature']));
    assert.deepEqual(at('status.approvals[].decision').enum, [...APPROVAL_DECISIONS]);
    assert.deepEqual(at('status.approvals[]').required, ['decision', 'username', 'at', 'signature']);
  });

  it('on condition reasons: every Reason passes the CRD reason pattern', () => {
    const pattern = new RegExp(at('status.conditions[].reason').pattern ?? '');
    for (const reason of Object.values(Reason)) assert.match(reason, pattern);
  });
});
