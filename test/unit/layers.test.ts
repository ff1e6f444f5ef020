/**
 * The layers of src/ (docs/adr/0018-layers.md), checked on every `npm test`.
 * Each folder of src/ sits in one layer; an import may go to its own folder,
 * to a folder of a lower layer, or sideways to another folder of the same
 * layer, never up; and the folders import each other in no loop. The product
 * (src/ without its *.test.ts) imports nothing from outside src/ but packages:
 * not test/, not a test. The import graph comes from the TypeScript compiler's
 * own pre-processor (every import, `import type`, `export ... from` and
 * dynamic import), so no extra tool is needed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** The files at the top of src/ (main.ts, config.ts) form this folder. */
const TOP = '.';

/**
 * Lowest first. A folder may import its own files and folders of its layer or
 * below; a new folder of src/ must be placed here before the test passes.
 */
export const LAYERS: readonly { name: string; folders: readonly string[] }[] = [
  { name: 'api', folders: ['api'] },
  { name: 'leaves', folders: ['log', 'http', 'signing', 'lifetime', 'policy', 'metrics', 'recording', 'audit', 'web'] },
  { name: 'adapters', folders: ['k8s'] },
  { name: 'parts', folders: ['certs', 'exec', 'approval', 'authz'] },
  { name: 'servers', folders: ['controller', 'admission', 'apiserver'] },
  { name: 'entry points', folders: ['cli', TOP] },
];

/** One import of one file: where it is and what it names. */
export interface Import {
  /** Importing file, relative to the repository. */
  file: string;
  line: number;
  specifier: string;
  /** The imported file, relative to the repository; undefined for a package or a node: module. */
  target?: string;
}

/** Every import of a TypeScript source, resolved the way NodeNext resolves `./x.js` to `./x.ts`. */
export function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map(({ fileName, pos }) => {
    const line = text.slice(0, pos).split('\n').length;
    const at = { file: relative(ROOT, file), line, specifier: fileName };
    if (!fileName.startsWith('.')) return at;
    const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts');
    return { ...at, target: relative(ROOT, target) };
  });
}

/** The folder of src/ a repository path is in (TOP for src/*.ts), or undefined outside src/. */
export function folderOf(path: string): string | undefined {
  const parts = path.split(sep).join('/').split('/');
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? TOP : parts[1];
}

const isTest = (path: string): boolean => path.endsWith('.test.ts');

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.folders.includes(folder));
}

const describeImport = (i: Import): string => `${i.file}:${i.line} imports '${i.specifier}'`;

/** What is wrong with one import: an upward import, an unplaced folder, or the product reaching outside src/. */
export function importProblem(i: Import): string | undefined {
  if (i.target === undefined) return undefined;
  const from = folderOf(i.file);
  const to = folderOf(i.target);
  if (from === undefined) return undefined;
  if (to === undefined) {
    return isTest(i.file) ? undefined : `${describeImport(i)}: the product imports nothing outside src/ (tests and tools stay out of it)`;
  }
  if (isTest(i.target) && !isTest(i.file)) return `${describeImport(i)}: the product never imports a test`;
  const [a, b] = [layerOf(from), layerOf(to)];
  if (a < 0 || b < 0) return `${describeImport(i)}: folder src/${a < 0 ? from : to} is in no layer; place it in LAYERS (test/unit/layers.test.ts) and docs/adr/0018-layers.md`;
  if (b > a) return `${describeImport(i)}: upward, from ${from} (layer ${LAYERS[a]?.name}) to ${to} (layer ${LAYERS[b]?.name}); move what both need down, or the importer up`;
  return undefined;
}

/** The imports between folders: `from -> to` with one example import each. */
export function folderEdges(imports: readonly Import[]): Map<string, Map<string, Import>> {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const from = folderOf(i.file);
    const to = i.target === undefined ? undefined : folderOf(i.target);
    if (from === undefined || to === undefined || from === to) continue;
    const out = edges.get(from) ?? new Map<string, Import>();
    if (!out.has(to)) out.set(to, i);
    edges.set(from, out);
  }
  return edges;
}

/** Loops between folders, each as the imports that make it (at least one loop when there is any). */
export function folderLoops(edges: Map<string, Map<string, Import>>): Import[][] {
  const loops: Import[][] = [];
  const seen = new Set<string>();
  // A graph has a loop exactly when a depth-first search meets a folder on its own path.
  const visit = (folder: string, path: Import[], onPath: string[]): void => {
    seen.add(folder);
    for (const [to, example] of edges.get(folder) ?? []) {
      const at = onPath.indexOf(to);
      if (at >= 0) loops.push([...path.slice(at), example]);
      else if (!seen.has(to)) visit(to, [...path, example], [...onPath, to]);
    }
  };
  for (const folder of [...edges.keys()].sort()) {
    if (!seen.has(folder)) visit(folder, [], [folder]);
  }
  return loops;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
    .sort();
}

/** Every import under src/, tests included (they may use test/support, but keep to the layers). */
function srcImports(): Import[] {
  return sources(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
}

describe('layers of src/', () => {
  const imports = srcImports();

  it('reads the imports of every file under src/', () => {
    assert.ok(imports.length > 300, `found ${imports.length} imports`);
    const unresolved = imports.filter((i) => i.target !== undefined && !existsSync(join(ROOT, i.target)));
    assert.deepEqual(unresolved.map(describeImport), []);
  });

  it('places every folder of src/ in a layer, once', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const placed = LAYERS.flatMap((l) => l.folders);
    assert.deepEqual(folders.filter((f) => !placed.includes(f)), [], 'folders in no layer');
    assert.equal(new Set(placed).size, placed.length, 'a folder in two layers');
  });

  it('has no upward import, and the product imports neither test/ nor a test', () => {
    const problems = imports.map(importProblem).filter((p) => p !== undefined);
    assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
  });

  it('has no import loop between folders', () => {
    const loops = folderLoops(folderEdges(imports)).map((loop) => loop.map(describeImport).join(' -> '));
    assert.deepEqual(loops, [], `\n${loops.join('\n')}`);
  });
});

describe('the layers check itself', () => {
  const at = (file: string, target: string): Import => ({ file, line: 1, specifier: `./${target}`, target });

  it('refuses an upward import, naming the file, the line and both layers', () => {
    assert.match(importProblem(at('src/k8s/leader.ts', 'src/controller/types.ts')) ?? '', /src\/k8s\/leader.ts:1 .*upward, from k8s \(layer adapters\) to controller \(layer servers\)/);
  });

  it('allows down, sideways, within a folder, and packages', () => {
    assert.equal(importProblem(at('src/controller/reconciler.ts', 'src/api/types.ts')), undefined);
    assert.equal(importProblem(at('src/authz/authorizer.ts', 'src/approval/approvals.ts')), undefined);
    assert.equal(importProblem(at('src/main.ts', 'src/config.ts')), undefined);
    assert.equal(importProblem({ file: 'src/k8s/kube.ts', line: 1, specifier: '@kubernetes/client-node' }), undefined);
  });

  it('refuses the product importing test/ or a test, and lets tests use test/support', () => {
    assert.match(importProblem(at('src/exec/helper-client.ts', 'test/support/fake-kube.ts')) ?? '', /nothing outside src\//);
    assert.match(importProblem(at('src/api/types.ts', 'src/api/crd.test.ts')) ?? '', /never imports a test/);
    assert.equal(importProblem(at('src/authz/authorizer.test.ts', 'test/support/fake-kube.ts')), undefined);
  });

  it('refuses a folder placed in no layer', () => {
    assert.match(importProblem(at('src/util/x.ts', 'src/api/types.ts')) ?? '', /src\/util is in no layer/);
  });

  it('finds a loop between folders of one layer, with the imports that make it', () => {
    const loops = folderLoops(folderEdges([
      at('src/authz/authorizer.ts', 'src/approval/approvals.ts'),
      at('src/approval/approvals.ts', 'src/exec/user.ts'),
      at('src/exec/user.ts', 'src/authz/authorizer.ts'),
      at('src/exec/user.ts', 'src/api/types.ts'),
    ]));
    assert.deepEqual(loops.map((l) => l.map((i) => i.file)), [['src/approval/approvals.ts', 'src/exec/user.ts', 'src/authz/authorizer.ts']]);
  });

  it('reads import type, export from and dynamic import', () => {
    const file = join(SRC, 'k8s', 'x.ts');
    const found = importsOf(file, "import type { A } from '../api/a.js';\nexport { B } from './b.js';\nconst c = await import('../log/c.js');\n");
    assert.deepEqual(found.map((i) => [i.line, i.target]), [[1, 'src/api/a.ts'], [2, 'src/k8s/b.ts'], [3, 'src/log/c.ts']]);
  });
});
