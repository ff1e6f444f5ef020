/**
 * Reading CRD manifests offline, for the tests that check them (src/api and
 * src/policy): the schema types, the structural-schema keywords we use, a walk
 * over every node with a kubectl-explain-like path, and a loader.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { VERSION } from '../../src/api/types.js';
import { REPO_ROOT } from '../../tools/cluster/config.js';

/** An OpenAPI v3 schema node as a CRD holds it. */
export interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
  maximum?: number;
  [key: string]: unknown;
}

/** One served version of a CRD. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: object };
  additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string; description?: string }>;
  schema: { openAPIV3Schema: Schema };
}

/** A CustomResourceDefinition manifest. */
export interface Crd {
  apiVersion: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: CrdVersion[];
  };
}

/**
 * Keywords the API server accepts in a structural schema (the OpenAPI v3 subset we
 * use); anything else is a typo such as `maxlength` that would silently not validate.
 */
export const KNOWN_KEYS = new Set([
  'type', 'description', 'properties', 'items', 'required', 'enum', 'pattern', 'format',
  'default', 'nullable', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum',
  'additionalProperties', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-map-type',
]);

/** A schema node and where it is: `root.spec.users.allowedNames[]`, `{}` for map values. */
export interface SchemaNode {
  path: string;
  schema: Schema;
  /** A named property (not an array item or map value). */
  isProperty: boolean;
}

/** Every schema node under `schema`, depth first. */
export function walk(schema: Schema, path: string, isProperty = false): SchemaNode[] {
  const nodes: SchemaNode[] = [{ path, schema, isProperty }];
  for (const [name, child] of Object.entries(schema.properties ?? {})) nodes.push(...walk(child, `${path}.${name}`, true));
  if (schema.items) nodes.push(...walk(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') nodes.push(...walk(schema.additionalProperties, `${path}{}`));
  return nodes;
}

/**
 * A CRD file from crds/, its v1alpha1 version and schema, and every node but
 * root metadata (which may carry nothing but `type`, as the API server requires).
 */
export function loadCrd(file: string, rootName: string) {
  const crd = parse(readFileSync(`${REPO_ROOT}/crds/${file}`, 'utf8')) as Crd;
  const version = crd.spec.versions.find((v) => v.name === VERSION);
  assert.ok(version, `${file} has no version ${VERSION}`);
  const root = version.schema.openAPIV3Schema;
  const nodes = walk(root, rootName).filter((n) => n.path !== `${rootName}.metadata`);
  const at = (path: string): Schema => {
    const node = nodes.find((n) => n.path === `${rootName}.${path}`);
    assert.ok(node, `${file}: no schema at ${path}`);
    return node.schema;
  };
  return { file, crd, version, root, nodes, at };
}
