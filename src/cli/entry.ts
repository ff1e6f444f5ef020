/**
 * The CLI's entry point when bundled (scripts/bundle.ts writes it to
 * /app/kubectl-execsession.mjs in the operator image, which the Helm chart's test
 * runs); from a clone, bin/kubectl-execsession runs src/cli/main.ts through tsx.
 */
import { run } from './main.js';

await run();
