/**
 * The operator bundled by esbuild into one ES module with every dependency in it:
 * what both images run (`npm run images` and the Dockerfile), so neither needs
 * node_modules or TypeScript at run time. Imports nothing from test/, so the
 * Dockerfile's build stage needs only package*.json, src/ and this file.
 *
 *   npm run bundle [-- OUT]      (default dist/bundle/main.mjs)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bundles src/main.ts into out. */
export async function bundleOperator(out: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'src/main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minifyWhitespace: true,
    legalComments: 'eof',
    logLevel: 'warning',
    // The CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __execsessionRequire } from 'node:module'; const require = __execsessionRequire(import.meta.url);" },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? join(ROOT, 'dist/bundle/main.mjs');
  bundleOperator(out).then(
    () => process.stderr.write(`bundle: ${out}\n`),
    (e: unknown) => {
      process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
