#!/usr/bin/env node
// kubectl plugin `kubectl execsession`: runs src/cli (TypeScript) through tsx,
// in this process, so it works from a git clone after `npm ci` without a build.
import { URL, fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Our own tsconfig, not whatever the current directory has.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import('../src/cli/main.ts');
await run();
