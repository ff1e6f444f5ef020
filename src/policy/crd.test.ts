// Checks the ExecPolicy and ClusterExecPolicy CRDs offline, as src/api/crd.test.ts
// does for ExecSession: structural-schema rules the API server would reject at
// apply time, documentation on every field (what `kubectl explain` shows), and
// agreement with the TypeScript mirror in types.ts. The samples in
// config/samples must use only declared fields and pass validatePolicy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DURATION_PATTERN, parseDuration } from '../api/duration.js';
import { PolicyReason } from '../api/conditions.js';
import { MAX_ID } from '../api/user-spec.js';
import { RECORDING_MODES } from '../api/types.js';
import type {
  AnyExecPolicy, ApprovalRules, ClusterPolicyTargets, DelegationRules, ExecPolicySpec, ExecPolicyStatus, IdRange,
  LabelSelector, LabelSelectorRequirement, Subject, TtlRules, UserRules,
} from './types.js';
import {
  CLUSTER_EXEC_POLICY_KIND, CLUSTER_EXEC_POLICY_PLURAL, DEFAULT_APPROVAL_TIMEOUT, DEFAULT_MAX_TTL, EXEC_POLICY_KIND,
  EXEC_POLICY_PLURAL, GROUP, POLICY_API_VERSION, SELECTOR_OPERATORS, SUBJECT_KINDS,
} from './types.js';
import { KNOWN_KEYS, loadCrd, type Schema } from '../../test/support/crd-schema.js';
import { validatePolicy } from './validate.js';

/** A policy CRD file, with every node under the path `root`. */
const load = (file: string): ReturnType<typeof loadCrd> => loadCrd(file, 'root');

const namespaced = load('execsession.dev_execpolicies.yaml');
const cluster = load('execsession.dev_clusterexecpolicies.yaml');

/** `k` names every key of T, no more (satisfies) and no fewer (the conditional type); checked by tsc. */
type Exact<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]> extends never ? K : { missing: Exclude<keyof T, K[number]> };
const keys = <T>() => <const K extends readonly (keyof T)[]>(k: K & Exact<T, K>): readonly string[] => k as readonly string[];

/** Field names of types.ts, per CRD path; the CRD's properties there must be the same. */
const FIELDS: Record<string, readonly string[]> = {
  'spec': keys<ExecPolicySpec>()(['subjects', 'targets', 'users', 'ttl', 'interactive', 'commands', 'recording', 'recordInput', 'approval', 'delegation']),
  'spec.subjects[]': keys<Subject>()(['kind', 'name', 'namespace']),
  'spec.targets.podSelector': keys<LabelSelector>()(['matchLabels', 'matchExpressions']),
  'spec.targets.podSelector.matchExpressions[]': keys<LabelSelectorRequirement>()(['key', 'operator', 'values']),
  'spec.users': keys<UserRules>()(['allowedNames', 'allowedUIDs', 'deniedNames', 'deniedUIDs', 'allowedGIDs', 'deniedGIDs', 'allowRoot', 'allowRootGroup']),
  'spec.users.allowedUIDs[]': keys<IdRange>()(['min', 'max']),
  'spec.ttl': keys<TtlRules>()(['default', 'max']),
  'spec.approval': keys<ApprovalRules>()(['required', 'approvers', 'blockSelfApproval', 'timeout']),
  'spec.approval.approvers[]': keys<Subject>()(['kind', 'name', 'namespace']),
  'spec.delegation': keys<DelegationRules>()(['trustedCreators']),
  'spec.delegation.trustedCreators[]': keys<Subject>()(['kind', 'name', 'namespace']),
  'status': keys<ExecPolicyStatus>()(['valid', 'message', 'observedGeneration', 'conditions']),
};
const CLUSTER_TARGETS = keys<ClusterPolicyTargets>()(['podSelector', 'containers', 'namespaces', 'namespaceSelector']);

const sorted = (values: Iterable<string>): string[] => [...values].sort();
const propertiesOf = (schema: Schema): string[] => sorted(Object.keys(schema.properties ?? {}));

for (const { file, crd, version, root, nodes, at } of [namespaced, cluster]) {
  const isCluster = crd.spec.scope === 'Cluster';
  describe(`${file}`, () => {
    it('matches the kind, plural, group and version in types.ts', () => {
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.spec.group, GROUP);
      assert.equal(crd.spec.names.kind, isCluster ? CLUSTER_EXEC_POLICY_KIND : EXEC_POLICY_KIND);
      assert.equal(crd.spec.names.plural, isCluster ? CLUSTER_EXEC_POLICY_PLURAL : EXEC_POLICY_PLURAL);
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.${GROUP}`);
      assert.equal(POLICY_API_VERSION, `${crd.spec.group}/${version.name}`);
      assert.equal(crd.spec.names.categories, undefined, 'a category named execsession would capture kubectl get execsession');
    });

    it('serves and stores v1alpha1 with a status subresource and printer columns', () => {
      assert.equal(version.served, true);
      assert.equal(version.storage, true);
      assert.deepEqual(version.subresources?.status, {});
      const columns = (version.additionalPrinterColumns ?? []).map((c) => [c.name, c.type, c.jsonPath]);
      assert.deepEqual(columns, [
        ['Valid', 'boolean', '.status.valid'],
        ['Approvals', 'integer', '.spec.approval.required'],
        ['Max TTL', 'string', '.spec.ttl.max'],
        ['Age', 'date', '.metadata.creationTimestamp'],
      ]);
      for (const c of version.additionalPrinterColumns ?? []) assert.ok(c.description, `column ${c.name} has no description`);
    });

    it('documents and types every property, item and map value at every depth', () => {
      const missing = nodes.filter((n) => n.path !== 'root' && !(n.schema.description ?? '').trim()).map((n) => n.path);
      assert.deepEqual(missing, []);
      assert.deepEqual(nodes.filter((n) => !n.schema.type).map((n) => n.path), []);
      assert.ok(nodes.length > 70, 'walk found too few nodes');
      assert.deepEqual(root.properties?.metadata, { type: 'object' });
    });

    it('is structural: known keywords only, no properties mixed with additionalProperties, arrays with items', () => {
      for (const { path, schema } of nodes) {
        assert.deepEqual(Object.keys(schema).filter((k) => !KNOWN_KEYS.has(k)), [], `${path} has unknown keywords`);
        assert.ok(!(schema.properties && schema.additionalProperties !== undefined), `${path} mixes properties and additionalProperties`);
        assert.ok(schema.type !== 'array' || schema.items, `${path} is an array without items`);
        for (const name of schema.required ?? []) assert.ok(schema.properties?.[name], `${path} requires undeclared ${name}`);
        const mapKeys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
        for (const key of mapKeys) assert.ok(schema.items?.required?.includes(key), `${path}: list-map key ${key} must be required`);
      }
    });

    it('uses the duration pattern of api/duration.ts, with defaults it accepts', () => {
      const durations = nodes.filter((n) => n.schema.pattern === DURATION_PATTERN.source).map((n) => n.path);
      assert.deepEqual(durations, ['root.spec.ttl.default', 'root.spec.ttl.max', 'root.spec.approval.timeout']);
      assert.equal(at('spec.ttl.max').default, DEFAULT_MAX_TTL);
      assert.equal(at('spec.approval.timeout').default, DEFAULT_APPROVAL_TIMEOUT);
      assert.equal(at('spec.ttl.default').default, undefined, 'ttl.default depends on ttl.max, so it is defaulted in code');
      for (const { path, schema } of nodes.filter((n) => typeof n.schema.default === 'string')) {
        assert.match(String(schema.default), new RegExp(schema.pattern ?? ''), `${path} default`);
        assert.ok(parseDuration(String(schema.default)) > 0);
      }
    });

    it('defaults booleans and approvals as documented', () => {
      assert.equal(at('spec.interactive').default, true);
      assert.equal(at('spec.users.allowRoot').default, false);
      assert.equal(at('spec.users.allowRootGroup').default, false);
      assert.equal(at('spec.approval.blockSelfApproval').default, true);
      assert.equal(at('spec.approval.required').default, 0);
      assert.equal(at('spec.recordInput').default, false);
      assert.deepEqual(root.required, ['spec']);
      assert.deepEqual(at('spec').required, ['subjects']);
      assert.equal(at('spec.subjects').minItems, 1);
    });

    it('agrees with types.ts on enums, id limits and field names', () => {
      for (const n of nodes.filter((node) => /\[\]\.kind$/.test(node.path))) assert.deepEqual(n.schema.enum, [...SUBJECT_KINDS], n.path);
      for (const n of nodes.filter((node) => node.path.endsWith('.operator'))) assert.deepEqual(n.schema.enum, [...SELECTOR_OPERATORS], n.path);
      assert.deepEqual(at('spec.recording').enum, [...RECORDING_MODES]);
      for (const n of nodes.filter((node) => /IDs\[\]\.(min|max)$/.test(node.path))) assert.equal(n.schema.maximum, MAX_ID, n.path);
      for (const [path, fields] of Object.entries(FIELDS)) assert.deepEqual(propertiesOf(at(path)), sorted(fields), path);
      for (const ids of ['allowedUIDs', 'deniedUIDs', 'allowedGIDs', 'deniedGIDs']) {
        assert.deepEqual(propertiesOf(at(`spec.users.${ids}[]`)), ['max', 'min']);
      }
      const targets = isCluster ? CLUSTER_TARGETS : CLUSTER_TARGETS.filter((f) => !f.startsWith('namespace'));
      assert.deepEqual(propertiesOf(at('spec.targets')), sorted(targets));
    });

    it('lets every policy reason be a condition reason', () => {
      const pattern = new RegExp(at('status.conditions[].reason').pattern ?? '');
      for (const reason of Object.values(PolicyReason)) assert.match(reason, pattern);
    });
  });
}

/** The schema without descriptions, for comparing shapes. */
function shape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(shape);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== 'description').map(([k, v]) => [k, shape(v)]));
}

describe('ExecPolicy and ClusterExecPolicy', () => {
  it('share one spec and status shape, except the cluster-only namespace targets', () => {
    const clusterSpec = shape(cluster.at('spec')) as Schema;
    const namespaceSelector = clusterSpec.properties?.targets?.properties?.namespaceSelector;
    delete clusterSpec.properties?.targets?.properties?.namespaces;
    delete clusterSpec.properties?.targets?.properties?.namespaceSelector;
    assert.deepEqual(clusterSpec, shape(namespaced.at('spec')));
    assert.deepEqual(namespaceSelector, shape(namespaced.at('spec.targets.podSelector')));
    assert.deepEqual(shape(cluster.at('status')), shape(namespaced.at('status')));
  });
});

/** Paths in `value` that the schema does not declare (map values are free). */
function undeclared(value: unknown, schema: Schema | undefined, path: string): string[] {
  if (!schema) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => undeclared(v, schema.items, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null || !schema.properties) return [];
  return Object.entries(value).flatMap(([k, v]) => undeclared(v, schema.properties?.[k], `${path}.${k}`));
}

describe('config/samples', () => {
  const samples: Array<[string, ReturnType<typeof load>]> = [
    ['clusterexecpolicy-developers.yaml', cluster],
    ['execpolicy-approval.yaml', namespaced],
  ];
  for (const [file, { crd, root }] of samples) {
    it(`${file} is a valid ${crd.spec.names.kind} using only declared fields`, () => {
      const policy = parse(readFileSync(new URL(`../../config/samples/${file}`, import.meta.url), 'utf8')) as AnyExecPolicy;
      assert.equal(policy.kind, crd.spec.names.kind);
      assert.equal(policy.apiVersion, POLICY_API_VERSION);
      assert.deepEqual(undeclared(policy.spec, root.properties?.spec, 'spec'), []);
      assert.deepEqual(validatePolicy(policy), []);
    });
  }
});
