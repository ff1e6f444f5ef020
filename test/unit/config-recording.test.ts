// The optional recording stores of config/recording (kustomize Components),
// rendered offline with kubectl's built-in kustomize into an overlay of
// config/default as a user would write it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAMESPACE = 'execsession-system';

interface Manifest {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  [key: string]: unknown;
}
interface Container {
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: { readOnlyRootFilesystem?: boolean };
}
interface PodSpec {
  containers: Container[];
  securityContext?: { fsGroup?: number };
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
}
interface DeploymentManifest extends Manifest {
  spec: { template: { spec: PodSpec } };
}

function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    assert.deepEqual(doc.errors.map((e) => e.message), [], `${source} does not parse`);
    const value = doc.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

function kustomize(dir: string): Manifest[] {
  const r = spawnSync('kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseManifests(r.stdout, dir);
}

function ofKind<T extends Manifest>(kind: string, from: Manifest[]): T[] {
  return from.filter((m) => m.kind === kind) as T[];
}

function one<T extends Manifest>(kind: string, name: string, from: Manifest[]): T {
  const found = ofKind<T>(kind, from).filter((m) => m.metadata?.name === name);
  assert.equal(found.length, 1, `expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as T;
}

const rendered = kustomize(join(REPO_ROOT, 'config/default'));
const pod = one<DeploymentManifest>('Deployment', 'execsession-operator', rendered).spec.template.spec;

/** `kubectl kustomize` of an overlay of config/default with one of config/recording's Components, as a user would write it. */
function withComponent(component: string): Manifest[] {
  const dir = mkdtempSync(join(tmpdir(), 'execsession-overlay-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
      resources: [relative(dir, join(REPO_ROOT, 'config/default'))], components: [relative(dir, join(REPO_ROOT, 'config/recording', component))],
    }));
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('config/recording (optional stores)', () => {
  it('s3: the store\'s settings from a ConfigMap, credentials from a Secret the operator never reads; nothing else changes', () => {
    const out = withComponent('s3');
    const spec = one<DeploymentManifest>('Deployment', 'execsession-operator', out).spec.template.spec;
    const c = spec.containers[0] as Container;
    assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'execsession-recordings-s3' } }, { secretRef: { name: 'execsession-recordings-s3', optional: true } }]);
    const settings = one<Manifest & { data: Record<string, string> }>('ConfigMap', 'execsession-recordings-s3', out);
    assert.equal(settings.metadata?.namespace, NAMESPACE);
    assert.equal(settings.data.EXECSESSION_RECORDING_STORE, 's3');
    // Every key is a flag the operator reads (src/config.ts), and none is a credential.
    const config = readFileSync(join(REPO_ROOT, 'src/config.ts'), 'utf8');
    for (const k of Object.keys(settings.data)) assert.ok(config.includes(`'${k.replace(/^EXECSESSION_/, '').toLowerCase().replace(/_/g, '-')}'`), `${k} is not a flag`);
    assert.ok(!Object.keys(settings.data).some((k) => /KEY|SECRET|TOKEN/.test(k)));
    assert.deepEqual(ofKind('Secret', out), [], 'the credentials are created by the user, never shipped');
    assert.equal(out.length, rendered.length + 1);
  });

  it('file: a ReadWriteMany claim mounted at --recording-dir, writable by the operator\'s group', () => {
    const out = withComponent('file');
    const spec = one<DeploymentManifest>('Deployment', 'execsession-operator', out).spec.template.spec;
    const c = spec.containers[0] as Container;
    const env = (name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
    assert.equal(env('EXECSESSION_RECORDING_STORE'), 'file');
    assert.equal(env('EXECSESSION_RECORDING_DIR'), '/var/lib/execsession/recordings');
    assert.deepEqual(c.volumeMounts, [{ name: 'recordings', mountPath: '/var/lib/execsession/recordings' }]);
    assert.deepEqual(spec.volumes, [{ name: 'recordings', persistentVolumeClaim: { claimName: 'execsession-recordings' } }]);
    assert.equal(spec.securityContext?.fsGroup, 65532);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true, 'the root file system stays read-only');
    const claim = one<Manifest & { spec: { accessModes: string[] } }>('PersistentVolumeClaim', 'execsession-recordings', out);
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  });

  it('is not in config/default: no recording store unless an overlay adds one', () => {
    assert.ok(!(pod.containers[0]?.env ?? []).some((e) => e.name.startsWith('EXECSESSION_RECORDING')));
  });
});
