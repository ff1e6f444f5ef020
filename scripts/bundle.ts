/**
 * The operator bundled by esbuild into one ES module with every dependency in it:
 * what both images run (`npm run images` and the Dockerfile), so neither needs
 * node_modules or TypeScript at run time. Imports nothing from test/, so the
 * Dockerfile's build stage needs only package*.json, src/ and this file.
 *
 *   npm run bundle [-- OUT [CLI-OUT]]   (default dist/bundle/main.mjs, dist/bundle/kubectl-execsession.mjs)
 *   tsx scripts/bundle.ts --operator [OUT]   the operator alone (npm start)
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { buildTerminalAssets } from '../src/web/build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles src/main.ts into out, with the browser terminal's assets (src/web/build.ts)
 * built into it: the image serves them without a file beside the bundle (src/web/assets.ts).
 */
export async function bundleOperator(out: string): Promise<void> {
  await bundle(join(ROOT, 'src/main.ts'), out, { define: await terminalAssetsDefine() });
}

/** The esbuild define that carries the browser terminal's assets into a bundle (src/web/assets.ts reads it). */
export async function terminalAssetsDefine(): Promise<Record<string, string>> {
  return { __EXECSESSION_TERMINAL_ASSETS__: JSON.stringify(JSON.stringify(await buildTerminalAssets())) };
}

/**
 * Bundles the CLI (src/cli/entry.ts) into out: `node out ARGS` is `kubectl execsession ARGS`.
 * With `executable`, a file kubectl finds on PATH: a `#!/usr/bin/env node` line, mode 755,
 * for Node 20 and later (npm run build:cli).
 */
export async function bundleCli(out: string, executable = false): Promise<void> {
  await bundle(join(ROOT, 'src/cli/entry.ts'), out, executable ? { shebang: true, target: 'node20' } : {});
  if (executable) chmodSync(out, 0o755);
}

/**
 * client-node declares no `sideEffects`, so a bundler keeps every module of it (its generated
 * API is about 14 MB) once anything is imported. The CLI uses KubeConfig alone (imported
 * statically in src/cli/kubeconfig-class.ts); marking client-node's modules side-effect free
 * lets esbuild drop the rest: the CLI's file shrinks about threefold and starts that much sooner
 * (npm run bench:cli). Only for the CLI; the operator's bundle keeps all of client-node.
 */
const clientNodeWithoutSideEffects: Plugin = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'inner' || args.kind === 'entry-point') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'inner' });
      if (r.errors.length > 0 || !r.path.includes('/node_modules/@kubernetes/client-node/')) return undefined;
      return { path: r.path, external: r.external, namespace: r.namespace, sideEffects: false };
    });
  },
};

async function bundle(entry: string, out: string, o: { shebang?: boolean; target?: string; define?: Record<string, string> } = {}): Promise<void> {
  const requireShim = "import { createRequire as __execsessionRequire } from 'node:module'; const require = __execsessionRequire(import.meta.url);";
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: o.target ?? 'node24',
    format: 'esm',
    minifyWhitespace: true,
    // The CLI starts for every command: less to parse (identifiers too; the operator keeps its names for stack traces).
    minifySyntax: o.shebang === true,
    minifyIdentifiers: o.shebang === true,
    legalComments: 'eof',
    logLevel: 'warning',
    // The CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: o.shebang ? `#!/usr/bin/env node\n${requireShim}` : requireShim },
    plugins: o.shebang ? [clientNodeWithoutSideEffects] : [],
    define: o.define ?? {},
  });
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--operator') {
  // npm start: the operator alone, run by node as compiled JavaScript (no compiler in the running process).
  const out = process.argv[3] ?? join(ROOT, 'dist/bundle/main.mjs');
  bundleOperator(out).catch((e: unknown) => {
    process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? join(ROOT, 'dist/bundle/main.mjs');
  const cli = process.argv[3] ?? join(ROOT, 'dist/bundle/kubectl-execsession.mjs');
  Promise.all([bundleOperator(out), bundleCli(cli)]).then(
    () => process.stderr.write(`bundle: ${out} ${cli}\n`),
    (e: unknown) => {
      process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
