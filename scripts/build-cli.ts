/**
 * `npm run build:cli [-- OUT]`: the CLI as one executable file (default
 * dist/cli/kubectl-execsession), every dependency bundled in: it runs on Node 20
 * and later without node_modules or TypeScript. Put it on PATH and
 * `kubectl execsession` finds it. `npm run bench:cli` times its start.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_OUT = join(ROOT, 'dist/cli/kubectl-execsession');

export async function buildCli(out = CLI_OUT): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  await bundleCli(out, true);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildCli(process.argv[2]).then(
    (out) => process.stderr.write(`build:cli: ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)\n`),
    (e: unknown) => {
      process.stderr.write(`build:cli: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
