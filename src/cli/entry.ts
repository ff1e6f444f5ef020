/**
 * The CLI's entry point when bundled (npm run build:cli, the npm package, and
 * /app/kubectl-execsession.mjs in the operator image, which the Helm chart's test
 * runs); from a clone, bin/kubectl-execsession runs src/cli/main.ts through tsx.
 * Run under the name kubectl_complete-execsession (the npm package links that bin
 * to this same file), it answers kubectl's plugin completion: `__complete ARGS`.
 */
import { basename } from 'node:path';
import { run } from './main.js';

if (basename(process.argv[1] ?? '').startsWith('kubectl_complete-')) process.argv.splice(2, 0, '__complete');
await run();
